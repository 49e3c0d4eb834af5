"""The vendored browser libraries are the pinned npm releases, with their licences."""

from __future__ import annotations

import hashlib
import json

import pytest

from nenscope.web.pages import STATIC_DIR
from nenscope.web.pages.routes import niivue_source

VENDOR = STATIC_DIR / "vendor"
MANIFEST = json.loads((VENDOR / "VENDORED.json").read_text(encoding="utf-8"))

# The SHA-256 of each file as published on npm (npm pack NAME@VERSION), written down here as
# well as in VENDORED.json, so that replacing a file AND its manifest entry still fails a test.
PINNED = {
    "niivue": ("0.69.0", "47b896b77ec4a5be3ef1949c33ad393b6f45629921f326c279000bcf51bdb4af"),
    "htmx": ("2.0.11", "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"),
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_manifest_pins_version_and_hash(name: str) -> None:
    version, sha = PINNED[name]
    assert MANIFEST[name]["version"] == version
    assert MANIFEST[name]["sha256"] == sha


def test_niivue_is_the_npm_release() -> None:
    source = niivue_source()
    assert hashlib.sha256(source).hexdigest() == PINNED["niivue"][1]
    assert b"sA.niivue={}" in source  # the UMD build that defines window.niivue


def test_htmx_is_the_npm_release() -> None:
    data = (VENDOR / MANIFEST["htmx"]["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == PINNED["htmx"][1]
    assert b'version:"2.0.11"' in data


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("niivue", ["BSD 2-Clause License", "Copyright (c) 2021, Niivue", "0.69.0"]),
        ("htmx", ["Zero-Clause BSD", "Big Sky Software", "2.0.11"]),
    ],
)
def test_licence_shipped(name: str, words: list[str]) -> None:
    text = (VENDOR / MANIFEST[name]["license_file"]).read_text(encoding="utf-8")
    for w in words:
        assert w in text
