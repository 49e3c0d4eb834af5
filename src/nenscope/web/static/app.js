// nenscope pages: shared helpers (API calls with the user's credentials, log-in, log-out).
"use strict";
(function () {
  const KEY = "nenscope.token";
  const NS = {};
  window.nenscope = NS;

  NS.token = () => sessionStorage.getItem(KEY);

  NS.toLogin = function () {
    const next = location.pathname + location.search;
    location.assign("/login?next=" + encodeURIComponent(next));
  };

  // Call the JSON API. The bearer token (from /api/auth/token) goes with every call, and
  // same-origin cookies too (for a session cookie, if the service sets one).
  NS.api = async function (path, options = {}) {
    const headers = Object.assign({}, options.headers || {});
    const token = NS.token();
    if (token) headers["Authorization"] = "Bearer " + token;
    let body = options.body;
    if (body !== undefined && !(body instanceof FormData) && typeof body !== "string") {
      body = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
    const response = await fetch(path, {
      method: options.method || "GET",
      headers,
      body,
      credentials: "same-origin",
    });
    if (response.status === 401 && !options.noRedirect) {
      sessionStorage.removeItem(KEY);
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

  NS.authHeaders = function () {
    const token = NS.token();
    return token ? { Authorization: "Bearer " + token } : {};
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

  async function login(form) {
    const error = document.getElementById("login-error");
    error.textContent = "";
    const data = new FormData(form);
    try {
      const answer = await NS.api("/api/auth/token", {
        method: "POST",
        body: { username: data.get("username"), password: data.get("password") },
        noRedirect: true,
      });
      sessionStorage.setItem(KEY, answer.token);
      sessionStorage.setItem("nenscope.user", String(data.get("username")));
      location.assign(form.dataset.next || "/");
    } catch (e) {
      error.textContent = e.status === 401 ? "Wrong user name or password." : e.message;
      form.querySelector("#password").select();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("login-form");
    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        login(form);
      });
    }
    if (document.body.classList.contains("needs-login") && !NS.token()) NS.toLogin();
    const user = sessionStorage.getItem("nenscope.user");
    const logout = document.getElementById("logout");
    if (user && NS.token()) {
      document.getElementById("who").textContent = user;
      logout.hidden = false;
    }
    logout.addEventListener("click", function () {
      sessionStorage.removeItem(KEY);
      sessionStorage.removeItem("nenscope.user");
      location.assign("/login");
    });
  });
})();
