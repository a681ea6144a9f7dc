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


def test_the_reference_speaks_the_reader_s_language(api):
    """Each operation is named by its title (the form's, or the operation's), in Chinese
    by default and in English on ?lang=en; the English page adds the longer description;
    the machine-readable document's summaries are the English titles."""
    spec = api.get("/openapi.json", as_=None).json
    titles = {}
    for lang in ("zh", "en"):
        page = api.client.get(f"/docs?lang={lang}").get_data(as_text=True)
        found = re.findall(r'<summary><span class="m m-\w+">(\w+)</span> <code>([^<]+)</code> '
                           r'— ([^\n<]+)', page)
        assert len(found) == sum(len(ops) for ops in spec["paths"].values())
        titles[lang] = {(method, path): title for method, path, title in found}
        assert 'lang="zh-CN"' in page if lang == "zh" else 'lang="en"' in page
    for path, title in titles["zh"].items():
        assert re.search(r"[\u4e00-\u9fff]", title), (path, title)
        assert not re.search(r"[A-Za-z]{3,}", title.replace("API", "").replace("PDF", "")), \
            (path, title)
    interviews = ("POST", "/api/v1/organizations/{code}/interviews")
    assert titles["zh"][interviews] == "约谈"  # as its form is titled
    assert titles["en"][interviews] == "Record an interview"
    assert titles["zh"][("GET", "/api/v1/organizations/{code}")] == "查看案卷"
    assert all(not re.search(r"[\u4e00-\u9fff]", t) for t in titles["en"].values())
    summaries = {p: ops for p, ops in spec["paths"].items()}
    assert summaries["/api/v1/organizations/{code}/interviews"]["post"]["summary"] == \
        "Record an interview"
    assert summaries["/api/v1/organizations/{code}/penalties"]["post"]["description"] \
        .startswith("Impose a penalty (行政处罚)")
    zh = api.client.get("/docs?lang=zh").get_data(as_text=True)
    for english in ("API token", "Send", "The machine-readable document", "query",
                    "body (", "Every write"):
        assert f">{english}" not in zh, english
