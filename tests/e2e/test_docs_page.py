"""The interactive API docs: every operation on /docs has its form (path parameters, a
query, a body prefilled with an example from its declared schema) and the page loads its
script; the examples fit the schemas in /openapi.json."""

from __future__ import annotations

import html
import json
import re

import jsonschema


def test_every_operation_has_a_try_it_form_with_an_example_that_fits(api):
    spec = api.get("/openapi.json", as_=None).json
    page = api.client.get("/docs")
    assert page.status_code == 200 and '<script src="/static/docs.js"' in page.text
    script = api.client.get("/static/docs.js")
    assert script.status_code == 200 and "fetch(" in script.get_data(as_text=True)
    forms = re.findall(r'<details class="op" id="[^"]+" data-method="(\w+)" '
                       r'data-path="([^"]+)">(.*?)</details>', page.text, re.S)
    operations = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert {(m, p) for m, p, _ in forms} == operations
    checked = 0
    for method, path, block in forms:
        parameters = re.findall(r'class="param" data-name="(\w+)"', block)
        assert parameters == re.findall(r"\{(\w+)\}", path), path
        body = re.search(r'<textarea class="body"[^>]*>(.*?)</textarea>', block, re.S)
        schema = spec["paths"][path][method.lower()].get("requestBody")
        json_body = schema is not None and "application/json" in schema["content"]
        assert (body is None) == (not json_body), path
        if schema is not None and not json_body:  # an upload: the file is the body
            assert '<input type="file" class="file">' in block, path
        if body is None:
            continue
        example = json.loads(html.unescape(body.group(1)))
        if "id_number" in json.dumps(example):
            continue  # left empty: the docs never show an identity number
        jsonschema.validate(example, schema["content"]["application/json"]["schema"])
        checked += 1
    assert checked >= 40
    assert not re.search(r"[1-9][0-9]{16}[0-9X]", page.text)  # no identity number
