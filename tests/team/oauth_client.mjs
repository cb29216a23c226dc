// An independent OAuth client for the team server: the MCP TypeScript SDK's own (@modelcontextprotocol/sdk).
//
// node oauth_client.mjs MCP_URL REDIRECT_URL
//
// It discovers the authorization server from the server's 401, registers (Dynamic Client
// Registration: the SDK uses Client ID Metadata Documents only for https ids), and starts the
// authorization with PKCE: the authorization URL is printed as {"authorize": URL}. The caller plays
// the browser (the consent page, a real key) and writes the redirect's query string back as one
// line on stdin; the SDK checks it and exchanges the code for tokens, then lists the tools and calls
// two, acting as the user who consented: create_interview, then list_interviews. The last line
// printed is {"tools": [...], "scope": "...", "iss": "...", "created": {...}, "listed": {...}} (the
// tool results' structuredContent); errors go to stderr, exit 1.
//
// SDK_DIR: the folder whose node_modules holds the SDK (tests/team/test_oauth_typescript.py installs it).

import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import path from "node:path";

const [mcpUrl, redirectUrl] = process.argv.slice(2);
const sdk = (sub) => import(pathToFileURL(path.join(process.env.SDK_DIR, "node_modules/@modelcontextprotocol/sdk/dist/esm", sub)).href);
const { Client } = await sdk("client/index.js");
const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");
const { UnauthorizedError } = await sdk("client/auth.js");

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const say = (value) => process.stdout.write(JSON.stringify(value) + "\n");

let client_information, tokens, verifier;
const provider = {
  get redirectUrl() { return redirectUrl; },
  get clientMetadata() {
    return {
      client_name: "MCP TypeScript SDK test client",
      redirect_uris: [redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  },
  clientInformation: () => client_information,
  saveClientInformation: (info) => { client_information = info; },
  tokens: () => tokens,
  saveTokens: (saved) => { tokens = saved; },
  redirectToAuthorization: (url) => say({ authorize: url.href }),
  saveCodeVerifier: (saved) => { verifier = saved; },
  codeVerifier: () => verifier,
};

async function connect() {
  const mcp = new Client({ name: "ts-oauth-test", version: "1.0.0" });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }));
  return mcp;
}

try {
  let mcp;
  try {
    mcp = await connect();
    throw new Error("connected without authorization");
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
  }
  const redirect = new URLSearchParams((await lines.next()).value);
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  await transport.finishAuth(redirect.get("code"));
  mcp = new Client({ name: "ts-oauth-test", version: "1.0.0" });
  await mcp.connect(transport);
  const listed = await mcp.listTools();
  const created = await mcp.callTool({ name: "create_interview", arguments: { title: "Made by the TypeScript SDK" } });
  if (created.isError) throw new Error("create_interview: " + JSON.stringify(created.content));
  const interviews = await mcp.callTool({ name: "list_interviews", arguments: {} });
  say({
    tools: listed.tools.map((t) => t.name), scope: tokens.scope, iss: redirect.get("iss"),
    created: created.structuredContent, listed: interviews.structuredContent,
  });
  await mcp.close();
  process.exit(0);
} catch (error) {
  process.stderr.write(String(error && error.stack || error) + "\n");
  process.exit(1);
}
