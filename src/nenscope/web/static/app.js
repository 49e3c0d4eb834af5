// nenscope pages: shared helpers. The browser is signed in by the HttpOnly session cookie
// (POST /auth/login); scripts send the session's CSRF token (cookie nenscope_csrf) in the
// X-CSRF-Token header with every change.
"use strict";
(function () {
  const NS = {};
  window.nenscope = NS;

  NS.csrf = function () {
    const m = document.cookie.match(/(?:^|;\s*)nenscope_csrf=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : "";
  };

  NS.toLogin = function () {
    const next = location.pathname + location.search;
    location.assign("/login?next=" + encodeURIComponent(next));
  };

  // Call the JSON API with the session cookie (and the CSRF token for changes).
  NS.api = async function (path, options = {}) {
    const method = options.method || "GET";
    const headers = Object.assign({}, options.headers || {});
    if (!["GET", "HEAD", "OPTIONS"].includes(method)) headers["X-CSRF-Token"] = NS.csrf();
    let body = options.body;
    if (body !== undefined && !(body instanceof FormData) && typeof body !== "string") {
      body = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
    const response = await fetch(path, { method, headers, body, credentials: "same-origin" });
    if (response.status === 401 && !options.noRedirect) {
      NS.toLogin();
      throw new Error("Please log in.");
    }
    const type = response.headers.get("Content-Type") || "";
    const data = type.includes("json") ? await response.json() : await response.text();
    if (!response.ok) {
      const detail = data && data.detail ? data.detail : response.statusText;
      const error = new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
      error.status = response.status;
      throw error;
    }
    return data;
  };

  NS.fmt = function (value, digits) {
    if (value === null || value === undefined || value === "") return "";
    const n = Number(value);
    return Number.isFinite(n) ? n.toFixed(digits) : String(value);
  };

  NS.el = function (tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) node.append(c);
    return node;
  };

  document.addEventListener("DOMContentLoaded", function () {
    // The log-out form carries the CSRF token (a plain form post, no script needed after this).
    for (const field of document.querySelectorAll("input[name=csrf_token]")) {
      if (!field.value) field.value = NS.csrf();
    }
  });
})();
