"""Behaviour of the real API the sandbox reproduces, one test per fact, over real HTTP.

Defaults and types of the real database, JavaScript request parsing (JSON.parse, trim, String),
PostgreSQL's uuid literals and the framework's OPTIONS and trailing-slash behaviour.
"""

from __future__ import annotations

import uuid

import pytest

from .conftest import add_questions, err, new_interview

pytestmark = pytest.mark.anyio
API = "/api/v1"
SAFE = 9007199254740991  # Number.MAX_SAFE_INTEGER


async def simulate(http, iid, **body):
    r = await http.post(f"/sandbox/interviews/{iid}/simulate", json=body)
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def published(http, *texts):
    iv = await new_interview(http)
    if texts:
        await add_questions(http, iv["id"], *texts)
    await http.post(f"{API}/interviews/{iv['id']}/publish")
    return iv


async def test_new_interview_defaults_on_every_read(http):
    defaults = {"mode": "CHAT", "allowModeSwitch": True, "videoMode": False, "invitedEmails": []}
    iv = await new_interview(http)
    patched = (await http.patch(f"{API}/interviews/{iv['id']}", json={"title": "T2"})).json()["data"]
    got = (await http.get(f"{API}/interviews/{iv['id']}")).json()["data"]
    (listed,) = (await http.get(f"{API}/interviews")).json()["data"]
    for row in (iv, patched, got, listed):
        assert {k: row[k] for k in defaults} == defaults


async def test_report_defaults_anti_cheating_log_and_whiteboard_pages(http):
    iv = await published(http, "Describe a cache you built.")
    s = await simulate(http, iv["id"], seed=1)
    report = (await http.get(f"{API}/sessions/{s['id']}/report")).json()["data"]
    assert report["antiCheatingLog"] == []
    assert report["messages"] and {m["whiteboardPages"] for m in report["messages"]} == {1}


async def test_time_limit_minutes_is_an_int4_column(http):
    r = await http.post(f"{API}/interviews", json={"title": "T", "timeLimitMinutes": 2147483648})
    assert err(r) == (500, "INTERNAL_ERROR", 'value "2147483648" is out of range for type integer')
    ok = await new_interview(http, timeLimitMinutes=2147483647)
    assert ok["timeLimitMinutes"] == 2147483647
    r = await http.patch(f"{API}/interviews/{ok['id']}", json={"timeLimitMinutes": 2**40})
    assert err(r)[:2] == (500, "INTERNAL_ERROR")
    assert len((await http.get(f"{API}/interviews")).json()["data"]) == 1


async def test_zod_int_accepts_only_safe_integers(http):
    iv = await new_interview(http)
    q = f"{API}/interviews/{iv['id']}/questions"
    c = f"{API}/interviews/{iv['id']}/candidates"
    too_big = f"Too big: expected int to be <={SAFE}"
    assert err(await http.post(q, json={"text": "Q", "timeLimitSeconds": SAFE + 1})) == (
        400,
        "BAD_REQUEST",
        too_big,
    )
    assert err(await http.post(c, json={"name": "A", "graduationYear": SAFE + 1})) == (
        400,
        "BAD_REQUEST",
        too_big,
    )
    too_small = f"Too small: expected int to be >=-{SAFE}"
    assert err(await http.post(c, json={"graduationYear": -SAFE - 1})) == (400, "BAD_REQUEST", too_small)
    # the largest safe integer passes zod and then meets the int4 column
    assert err(await http.post(q, json={"text": "Q", "timeLimitSeconds": SAFE}))[:2] == (
        500,
        "INTERNAL_ERROR",
    )


async def test_practice_average_score_is_the_plain_mean(http):
    iv = await new_interview(http)
    await add_questions(http, iv["id"], "Q one", "Q two", "Q three")
    r = await http.post(
        f"/sandbox/interviews/{iv['id']}/practices", json={"answers": ["x", "x", "We had 3 bugs."]}
    )
    assert r.status_code == 200, r.text
    scores = [a["score"] for a in r.json()["data"]["attempts"]]
    (summary,) = (await http.get(f"{API}/interviews/{iv['id']}/practices")).json()["data"]
    assert summary["averageScore"] == sum(scores) / 3
    assert summary["averageScore"] != round(summary["averageScore"], 2)  # a mean that rounding would change


@pytest.mark.parametrize("where", ["interview", "question", "candidate"])
async def test_nul_character_in_text_is_a_database_error(http, where):
    iv = await new_interview(http)
    path, body = {
        "interview": (f"{API}/interviews", {"title": "a\u0000b"}),
        "question": (f"{API}/interviews/{iv['id']}/questions", {"text": "a\u0000b"}),
        "candidate": (f"{API}/interviews/{iv['id']}/candidates", {"name": "a\u0000b"}),
    }[where]
    assert err(await http.post(path, json=body)) == (
        500,
        "INTERNAL_ERROR",
        "unsupported Unicode escape sequence",
    )
    got = (await http.get(f"{API}/interviews/{iv['id']}")).json()["data"]
    assert got["questions"] == [] and len((await http.get(f"{API}/interviews")).json()["data"]) == 1
    assert (await http.get(f"{API}/interviews/{iv['id']}/candidates")).json()["data"] == []


async def test_repeated_query_parameter_uses_the_first_value(http):
    for _ in range(3):
        await new_interview(http)
    assert len((await http.get(f"{API}/interviews?limit=1&limit=50")).json()["data"]) == 1
    assert len((await http.get(f"{API}/interviews?limit=50&limit=1")).json()["data"]) == 3


async def test_json_body_parsing_is_javascripts(http):
    bom = await http.post(f"{API}/interviews", content=b'\xef\xbb\xbf{"title": "With BOM"}')
    assert bom.status_code == 200 and bom.json()["data"]["title"] == "With BOM"
    huge = "9" * 5000  # JSON.parse gives Infinity; the field's own check fails, not the parser
    r = await http.post(f"{API}/interviews", content=f'{{"title": "T", "timeLimitMinutes": {huge}}}')
    assert err(r) == (400, "BAD_REQUEST", "timeLimitMinutes must be a positive integer.")
    iid = (await new_interview(http))["id"]
    r = await http.post(
        f"{API}/interviews/{iid}/questions", content=f'{{"text": "Q", "timeLimitSeconds": {huge}}}'
    )
    assert err(r) == (400, "BAD_REQUEST", "Invalid input: expected number, received number")
    r = await http.post(f"{API}/interviews/{iid}/questions", content=f'{{"text": "Q", "order": {huge}}}')
    assert err(r) == (400, "BAD_REQUEST", "order must be a non-negative integer")
    deep = "[" * 5000 + "]" * 5000
    r = await http.post(f"{API}/interviews", content=f'{{"title": "Deep", "ignored": {deep}}}')
    assert r.status_code == 200 and r.json()["data"]["title"] == "Deep"
    broken = await http.post(f"{API}/interviews", content=f'{{"title": "Deep", "ignored": {deep[:-1]}}}')
    assert err(broken) == (400, "BAD_REQUEST", "Invalid JSON body.")
    # stored and returned at that depth (read as text here: Python's own json stops near 1,000)
    r = await http.post(
        f"{API}/interviews/{iid}/questions", content=f'{{"text": "Q", "validationRules": {deep}}}'
    )
    assert r.status_code == 200 and f'"validationRules":{deep},' in r.text
    listed = await http.get(f"{API}/interviews/{iid}/questions")
    assert listed.text.count(deep) == 1


async def test_non_finite_numbers_are_stored_as_null(http):
    # JSON.parse reads 1e999 and 400-digit integers as Infinity; JSON.stringify sends it as null
    iid = (await new_interview(http))["id"]
    body = '{"text": "Q", "validationRules": {"max": 1e999, "min": -1e999, "n": %s}}' % ("9" * 400)
    r = await http.post(f"{API}/interviews/{iid}/questions", content=body)
    assert r.status_code == 200 and "Infinity" not in r.text
    assert r.json()["data"][0]["validationRules"] == {"max": None, "min": None, "n": None}
    got = (await http.get(f"{API}/interviews/{iid}/questions")).json()["data"][0]
    assert got["validationRules"] == {"max": None, "min": None, "n": None}


async def test_trim_is_javascripts(http):
    r = await http.post(f"{API}/interviews", json={"title": "\ufeff"})
    assert err(r) == (400, "BAD_REQUEST", "title is required.")
    assert (await new_interview(http, title="\u3000Spaced\u2028\u00a0"))["title"] == "Spaced"
    assert (await new_interview(http, title="\u001fKept\u001c"))["title"] == "\u001fKept\u001c"
    iid = (await new_interview(http))["id"]
    r = await http.post(
        f"{API}/interviews/{iid}/candidates", json={"name": "\ufeffAda\ufeff", "email": " A@X.io\ufeff"}
    )
    assert (r.json()["data"][0]["name"], r.json()["data"][0]["email"]) == ("Ada", "a@x.io")


async def test_question_text_non_string_is_string_of_it_untrimmed(http):
    iid = (await new_interview(http))["id"]
    r = await http.post(
        f"{API}/interviews/{iid}/questions",
        json=[{"text": 0}, {"text": False}, {"text": [" a "]}, {"text": "  b "}],
    )
    assert [q["text"] for q in r.json()["data"]] == ["0", "false", " a ", "b"]
    for blank in ([], [" "], None, ""):
        r = await http.post(f"{API}/interviews/{iid}/questions", json={"text": blank})
        assert err(r) == (400, "BAD_REQUEST", "Each question must have non-empty text")


async def test_question_item_shapes_are_checked_before_fields(http):
    iid = (await new_interview(http))["id"]
    r = await http.post(f"{API}/interviews/{iid}/questions", json=[{"text": ""}, 5])
    assert err(r) == (400, "BAD_REQUEST", "Each question must be an object")


async def test_path_uuids_in_every_postgres_form_resolve(http):
    iv = await published(http, "Q")
    iid = iv["id"]
    (q,) = (await http.get(f"{API}/interviews/{iid}/questions")).json()["data"]
    s = await simulate(http, iid, seed=2)
    forms = [iid.upper(), iid.replace("-", ""), "{" + iid + "}", "{" + iid.replace("-", "").upper() + "}"]
    hex32 = iid.replace("-", "")
    forms.append("-".join(hex32[i : i + 4] for i in range(0, 32, 4)))  # a hyphen after every 4 digits
    for form in forms:
        got = await http.get(f"{API}/interviews/{form}")
        assert got.status_code == 200 and got.json()["data"]["id"] == iid, form
        assert (await http.get(f"{API}/interviews/{form}/questions")).json()["data"][0]["id"] == q["id"]
    assert (await http.post(f"{API}/interviews/{iid.upper()}/publish")).json()["data"]["id"] == iid
    assert (await http.get(f"{API}/sessions/{s['id'].replace('-', '')}")).json()["data"]["id"] == s["id"]
    patched = await http.patch(f"{API}/questions/{{{q['id'].upper()}}}", json={"text": "Q2"})
    assert patched.json()["data"]["id"] == q["id"]
    # the question DELETE echoes the path parameter as sent
    gone = await http.delete(f"{API}/questions/{q['id'].upper()}")
    assert gone.json()["data"] == {"id": q["id"].upper(), "deleted": True}
    for bad in ("{" + iid, iid + "}", "-" + hex32, hex32 + "-", iid[:-1] + "g", hex32[:4] + "--" + hex32[4:]):
        r = await http.get(f"{API}/interviews/{bad}")
        assert err(r) == (500, "INTERNAL_ERROR", f'invalid input syntax for type uuid: "{bad}"'), bad
    assert uuid.UUID(iid)


async def test_candidate_patch_checks_profile_fields_before_name_and_email(http):
    iid = (await new_interview(http))["id"]
    cand = (await http.post(f"{API}/interviews/{iid}/candidates", json={"name": "A"})).json()["data"][0]
    url = f"{API}/interviews/{iid}/candidates/{cand['id']}"
    r = await http.patch(url, json={"name": "", "email": "nope", "birthday": "2026-02-30"})
    assert err(r) == (400, "BAD_REQUEST", "Invalid ISO date")
    r = await http.patch(url, json={"name": "", "graduationYear": "2025"})
    assert err(r) == (400, "BAD_REQUEST", "Invalid input: expected number, received string")


async def test_options_answers_204_with_allow_and_no_key(http, server):
    iid = (await new_interview(http))["id"]
    expected = {
        f"{API}/interviews": "GET, HEAD, OPTIONS, POST",
        f"{API}/interviews/{iid}": "DELETE, GET, HEAD, OPTIONS, PATCH",
        f"{API}/questions/{iid}": "DELETE, OPTIONS, PATCH",
        f"{API}/interviews/{iid}/sessions/end": "OPTIONS, POST",
    }
    for path, allow in expected.items():
        r = await http.request("OPTIONS", server.url + path, headers={"Authorization": ""})
        assert (r.status_code, r.headers.get("allow"), r.content) == (204, allow, b""), path


async def test_trailing_slash_redirects_with_308(http):
    r = await http.get(f"{API}/interviews/?limit=5", follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == f"{API}/interviews?limit=5"
    r = await http.post(f"{API}/interviews//", json={"title": "T"}, follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == f"{API}/interviews"
    assert (await http.get(f"{API}/interviews")).json()["data"] == []  # the redirect stored nothing


async def test_number_parsing_takes_only_ascii_digits(http):
    for _ in range(6):
        await new_interview(http)
    # parseInt("\u0665") is NaN in JavaScript (the default 20 applies); Python's int() reads it as 5
    assert len((await http.get(f"{API}/interviews", params={"limit": "\u0665"})).json()["data"]) == 6
    assert len((await http.get(f"{API}/interviews", params={"limit": "\u00a05"})).json()["data"]) == 5
    iid = (await new_interview(http))["id"]
    url = f"{API}/interviews/{iid}/questions"
    for order in ("\u0663", "0x1_0", "1_0"):
        r = await http.post(url, json={"text": "Q", "order": order})
        assert err(r) == (400, "BAD_REQUEST", "order must be a non-negative integer"), order
    made = (
        await http.post(url, json=[{"text": "Q", "order": " 0x1F "}, {"text": "R", "order": "\ufeff3"}])
    ).json()
    assert [q["order"] for q in made["data"]] == [31, 3]
