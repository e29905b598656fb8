"""Drives memkeep's MCP server with the official Python `mcp` client.

    mcp_client.py MEMKEEPD stdio              (store and default agent from the environment)
    mcp_client.py MEMKEEPD http URL KEY OTHER_KEY

KEY is limited to the agent AGENT alone (so it is the default agent); OTHER_KEY to other-*.
Prints "all ok" at the end; any failed check raises.
"""
import asyncio
import json
import os
import re
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamablehttp_client
from mcp.shared.exceptions import McpError

AGENT = "support-customer-9182"
TOOLS = {"remember", "recall", "get_context", "start_session", "end_session", "forget", "list_sessions"}


def answer(result):
    assert not result.isError, result
    return json.loads(result.content[-1].text)


async def refused(session, tool, arguments, code, words):
    """A bad call gets an MCP error naming what was wrong."""
    try:
        result = await session.call_tool(tool, arguments)
    except McpError as error:
        assert error.error.code == code, (tool, arguments, error.error.code, error.error.message)
        assert words in error.error.message, (tool, arguments, error.error.message)
        print(f"refused {tool} {json.dumps(arguments)}: {error.error.code} {error.error.message}")
        return
    raise AssertionError(f"{tool} {arguments} was not refused: {result}")


async def exercise(session):
    init = await session.initialize()
    assert init.serverInfo.name == "memkeep", init
    assert init.capabilities.tools is not None and init.capabilities.resources is not None
    assert init.capabilities.prompts is not None

    tools = (await session.list_tools()).tools
    assert {tool.name for tool in tools} == TOOLS, [tool.name for tool in tools]
    for tool in tools:
        assert tool.description and len(tool.description) > 20, tool
        assert tool.inputSchema["type"] == "object" and tool.inputSchema["properties"], tool
    print("tools:", ", ".join(sorted(TOOLS)))

    started = answer(await session.call_tool("start_session", {}))
    session_id = started["session"]["id"]
    assert started["session"]["agent_id"] == AGENT, started

    stack = answer(await session.call_tool(
        "remember", {"content": "The primary database is AlloyDB.", "importance": 0.9, "session_id": session_id}))
    stack_id = stack["memory"]["id"]
    task = answer(await session.call_tool(
        "remember", {"content": "Auth is done; rate limiting is next.", "importance": 0.85, "session_id": session_id}))
    chat = answer(await session.call_tool(
        "remember", {"content": "Said thanks for the help.", "importance": 0.2, "session_id": session_id, "tags": ["chat"]}))
    assert stack["session_state"] == "active", stack

    recalled = answer(await session.call_tool("recall", {"query": "AlloyDB database", "top_k": 3}))
    assert recalled["memories"][0]["memory"]["id"] == stack_id, recalled

    context = await session.call_tool("get_context", {"session_id": session_id})
    text = context.content[0].text
    # Each line says when it was said: "- [2026-05-28] …".
    assert re.match(r"Current facts:\n- \[\d{4}-\d{2}-\d{2}\] The primary database is AlloyDB\.", text), text
    assert re.search(r"Open tasks:\n- \[\d{4}-\d{2}-\d{2}\] Auth is done; rate limiting is next\.", text), text
    assert "Said thanks" not in text, text
    block = answer(context)
    assert block["tokens"] <= 400 and stack_id in block["memories"] and not block["truncated"], block

    sessions = answer(await session.call_tool("list_sessions", {"active_only": True}))
    assert [s["id"] for s in sessions["sessions"]] == [session_id], sessions

    templates = (await session.list_resource_templates()).resourceTemplates
    assert {t.uriTemplate for t in templates} == {"memkeep://agents/{id}/context", "memkeep://memories/{id}"}
    resources = (await session.list_resources()).resources
    assert [str(r.uri) for r in resources] == [f"memkeep://agents/{AGENT}/context"], resources
    read = await session.read_resource(f"memkeep://agents/{AGENT}/context")
    assert read.contents[0].text == text, read
    read = await session.read_resource(f"memkeep://memories/{stack_id}")
    assert json.loads(read.contents[0].text)["content"] == "The primary database is AlloyDB.", read

    prompts = (await session.list_prompts()).prompts
    assert [p.name for p in prompts] == ["session_start"], prompts
    prompt = await session.get_prompt("session_start", {"budget_tokens": "200"})
    assert prompt.messages[0].role == "user"
    assert "The primary database is AlloyDB." in prompt.messages[0].content.text, prompt

    forgotten = answer(await session.call_tool("forget", {"memory_ids": [chat["memory"]["id"]]}))
    assert forgotten["deleted_count"] == 1, forgotten
    ended = answer(await session.call_tool("end_session", {"session_id": session_id, "summary": "Planned rate limiting."}))
    assert ended["session_state"] == "ended", ended

    # Bad arguments: MCP errors naming the field; the caller's test checks that nothing changed.
    await refused(session, "remember", {"importance": 0.5}, -32602, "content is required")
    await refused(session, "remember", {"content": "x", "importance": 2}, -32602, "importance")
    await refused(session, "remember", {"content": "x", "tags": "ops"}, -32602, "tags must be an array of strings")
    await refused(session, "remember", {"content": "x", "session_id": "no-such-session"}, -32002, "no-such-session")
    await refused(session, "recall", {"query": "x", "top_k": 0}, -32602, "top_k must be between 1 and 100")
    await refused(session, "get_context", {"budget_tokens": 0}, -32602, "budget_tokens must be an integer from 1")
    await refused(session, "get_context", {"include": ["everything"]}, -32602, "include has \"everything\"")
    await refused(session, "end_session", {}, -32602, "session_id is required")
    await refused(session, "forget", {"memory_ids": []}, -32602, "memory_ids must list 1 to 1000")
    await refused(session, "list_sessions", {"limit": 5000}, -32602, "limit must be an integer from 1 to 1000")
    await refused(session, "no_such_tool", {}, -32602, "unknown tool no_such_tool")
    for uri in ["memkeep://memories/no-such-memory", "memkeep://elsewhere/x"]:
        try:
            await session.read_resource(uri)
            raise AssertionError(f"{uri} was read")
        except McpError as error:
            print(f"refused {uri}: {error.error.code} {error.error.message}")
    try:
        await session.get_prompt("session_start", {"budget_tokens": "lots"})
        raise AssertionError("a bad budget was taken")
    except McpError as error:
        assert "budget_tokens must be an integer" in error.error.message, error
    return stack_id


async def other_tenant(url, key, stack_id):
    """A key of another tenant reaches none of AGENT's memories over /mcp."""
    async with streamablehttp_client(url, headers={"Authorization": f"Bearer {key}"}) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            await refused(session, "recall", {"agent_id": AGENT, "query": "AlloyDB"}, -32000, "NAMESPACE_ACCESS_DENIED")
            await refused(session, "get_context", {"agent_id": AGENT}, -32000, "NAMESPACE_ACCESS_DENIED")
            await refused(session, "remember", {"agent_id": AGENT, "content": "planted"}, -32000, "NAMESPACE_ACCESS_DENIED")
            await refused(session, "forget", {"agent_id": AGENT, "memory_ids": [stack_id]}, -32000, "NAMESPACE_ACCESS_DENIED")
            try:
                await session.read_resource(f"memkeep://memories/{stack_id}")
                raise AssertionError("another tenant read the memory")
            except McpError as error:
                assert error.error.code == -32002 and "not found" in error.error.message, error
            sessions = answer(await session.call_tool("list_sessions", {"agent_id": AGENT}))
            assert sessions["sessions"] == [], sessions
            assert (await session.list_resources()).resources == []
    print("other tenant: refused")


async def main():
    memkeepd, mode = sys.argv[1:3]
    if mode == "stdio":
        params = StdioServerParameters(command=memkeepd, args=["mcp"], env=dict(os.environ))
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await exercise(session)
    else:
        url, key, other = sys.argv[3:6]
        async with streamablehttp_client(url, headers={"Authorization": f"Bearer {key}"}) as (read, write, _):
            async with ClientSession(read, write) as session:
                stack_id = await exercise(session)
        await other_tenant(url, other, stack_id)
    print("all ok")


asyncio.run(main())
