// The reference provider beside Spiko in bench/oauth_peer_bench.py: panva's oidc-provider, in
// memory, one process, with one confidential client. It listens on 127.0.0.1:PORT, issues itself
// an opaque access token (client credentials) and prints one JSON line: the client, its secret,
// the token and the endpoint paths.
import Provider from "oidc-provider";

const port = Number(process.argv[2] || 3000);
const issuer = `http://127.0.0.1:${port}`;
const client = { client_id: "bench", client_secret: "bench-secret-" + "s".repeat(32) };

const provider = new Provider(issuer, {
  clients: [
    {
      ...client,
      grant_types: ["client_credentials"],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  features: {
    introspection: { enabled: true },
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
  },
});

const server = provider.listen(port, "127.0.0.1", async () => {
  const basic = "Basic " + Buffer.from(`${client.client_id}:${client.client_secret}`).toString("base64");
  const answer = await fetch(`${issuer}/token`, {
    method: "POST",
    headers: { authorization: basic, "content-type": "application/x-www-form-urlencoded" },
    body: "grant_type=client_credentials",
  });
  const body = await answer.json();
  if (!body.access_token) {
    console.error(JSON.stringify(body));
    process.exit(1);
  }
  console.log(
    JSON.stringify({
      ...client,
      access_token: body.access_token,
      introspection_path: "/token/introspection",
      token_path: "/token",
    }),
  );
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
