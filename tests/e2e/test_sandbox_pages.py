"""`serve --sandbox` hands out links that open: the public and invite URLs its tools return point
at the sandbox's candidate pages, served on a loopback port (a free one, or `--sandbox-port`), and
printed on stderr as they are made. Real stdio with the `mcp` client, then real HTTP: both links
open, and a candidate takes the interview through the invite link's form posts, which the agent
then reads as a COMPLETED session."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from aural_e2e import first_id
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from tests.support.forms import hidden_fields
from tests.support.net import free_port
from tests.support.processes import AURAL_MCP, env_without_aural

pytestmark = pytest.mark.anyio

TITLE = "Links that open: backend screen"
PAGES = re.compile(r"sandbox candidate pages at (http://127\.0\.0\.1:(\d+))/i/")


@pytest.mark.parametrize("choose_port", [False, True], ids=["free-port", "sandbox-port"])
async def test_public_and_invite_links_open(tmp_path: Path, choose_port: bool) -> None:
    port = free_port() if choose_port else None
    args = [*AURAL_MCP[1:], "serve", "--sandbox", *(["--sandbox-port", str(port)] if port else [])]
    params = StdioServerParameters(command=AURAL_MCP[0], args=args, env=env_without_aural())
    errlog_path = tmp_path / "stderr.txt"
    with open(errlog_path, "w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            announced = PAGES.search(errlog_path.read_text())
            assert announced, errlog_path.read_text()
            base = announced.group(1)
            if port:
                assert int(announced.group(2)) == port
            created = await client.call_tool("create_interview", {"title": TITLE, "objective": "links"})
            interview_id = first_id(created)
            question = {"text": "What makes a link worth opening?", "type": "OPEN_ENDED"}
            added_q = await client.call_tool(
                "add_questions", {"interviewId": interview_id, "questions": [question]}
            )
            assert not added_q.is_error
            published = await client.call_tool("publish_interview", {"interviewId": interview_id})
            assert not published.is_error
            public_url = published.structured_content["data"]["url"]
            added = await client.call_tool(
                "add_candidates", {"interviewId": interview_id, "candidates": [{"name": "Grace Hopper"}]}
            )
            assert not added.is_error
            invite_url = added.structured_content["data"][0]["inviteUrl"]
            async with httpx2.AsyncClient(timeout=10) as http:
                for url in (public_url, invite_url):
                    assert url.startswith(base + "/i/"), (url, base)
                    page = await http.get(url)
                    assert page.status_code == 200, (url, page.status_code)
                    assert TITLE in page.text, page.text[:300]
                assert "Grace Hopper" in (await http.get(invite_url)).text
                assert (await http.get(base + "/api/v1/usage")).status_code == 404  # only the pages are here
                start = await http.get(invite_url)
                started = await http.post(invite_url, data=hidden_fields(start.text))
                assert started.status_code == 303, started.text[-500:]
                page_url = base + started.headers["location"]
                question_page = await http.get(page_url)
                listed = await client.call_tool("list_sessions", {"interviewId": interview_id})
                session_id = listed.structured_content["data"][0]["id"]
                assert listed.structured_content["data"][0]["status"] == "IN_PROGRESS"
                waited: list[Any] = []

                async def wait() -> None:
                    args = {"interviewId": interview_id, "status": "COMPLETED", "timeoutSeconds": 20}
                    waited.append(await client.call_tool("wait_for_sessions", args))

                async with anyio.create_task_group() as tasks:  # the agent waits while the candidate answers
                    tasks.start_soon(wait)
                    await anyio.sleep(0.5)
                    answered = await http.post(
                        page_url, data={**hidden_fields(question_page.text), "answer": "It opens."}
                    )
                    assert answered.status_code == 303, answered.text[-500:]
                assert session_id in str(waited[0].content), waited[0].content
                assert "Thank you, Grace Hopper" in (await http.get(page_url)).text
            printed = errlog_path.read_text()
            assert f"take the interview as a candidate at {invite_url} (the invite link of Grace Hopper)" in printed
            assert f"take the interview as a candidate at {public_url} (the public link)" in printed
            session = await client.call_tool("get_session", {"sessionId": session_id})
            assert session.structured_content["data"]["status"] == "COMPLETED"
            assert "It opens." in str(session.structured_content)
            transcript = await client.call_tool("get_transcript", {"sessionId": session_id})
            assert not transcript.is_error and "It opens." in str(transcript.content)
            compared = await client.call_tool("compare_sessions", {"interviewId": interview_id})
            assert not compared.is_error and "Grace Hopper" in str(compared.content), compared.content
    stderr = errlog_path.read_text()
    assert "Traceback" not in stderr
    with pytest.raises(httpx2.TransportError):  # stopped with the server
        httpx2.get(public_url, timeout=2)
