// The whole FAPI 2.0 flow as panva's openid-client (v6) runs it against a Spiko server: PAR,
// private_key_jwt, DPoP-bound code exchange, the iss check, a DPoP call on /v1, the same token
// refused without its proof, DPoP-bound refresh, and a refresh with another key refused.
//
// Driven by tests/oauth/test_fapi_node.py: the issuer, client id and private JWK come in the
// environment; the authorization URL goes out on stdout ("AUTHORIZE <url>") and the callback URL
// the browser landed on comes back on stdin; each check is reported as one JSON line ("CHECK {...}").
import * as client from 'openid-client'
import { createInterface } from 'node:readline'

const issuer = process.env.SPIKO_ISSUER
const clientId = process.env.FAPI_CLIENT_ID
const privateJwk = JSON.parse(process.env.FAPI_CLIENT_JWK)
const redirectUri = process.env.FAPI_REDIRECT_URI
const idTokenAlg = process.env.FAPI_ID_TOKEN_ALG || 'ES256'

function check(name, ok, detail = {}) {
  process.stdout.write(`CHECK ${JSON.stringify({ name, ok: Boolean(ok), ...detail })}\n`)
}

async function readLine() {
  const lines = createInterface({ input: process.stdin })
  for await (const line of lines) {
    lines.close()
    return line.trim()
  }
  throw new Error('no callback URL on stdin')
}

const { kid, ...jwk } = privateJwk
const key = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
const config = await client.discovery(
  new URL(issuer),
  clientId,
  { id_token_signed_response_alg: idTokenAlg, redirect_uris: [redirectUri] },
  client.PrivateKeyJwt({ key, kid }),
  { execute: [client.allowInsecureRequests] },
)
const metadata = config.serverMetadata()
check('discovery', metadata.pushed_authorization_request_endpoint && metadata.authorization_response_iss_parameter_supported && metadata.id_token_signing_alg_values_supported.includes(idTokenAlg))

const dpopKeys = await client.randomDPoPKeyPair('ES256')
const DPoP = client.getDPoPHandle(config, dpopKeys)
const codeVerifier = client.randomPKCECodeVerifier()
const state = client.randomState()
const nonce = client.randomNonce()
const authorizationUrl = await client.buildAuthorizationUrlWithPAR(
  config,
  {
    redirect_uri: redirectUri,
    scope: 'openid offline',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  },
  { DPoP },
)
check('par', authorizationUrl.searchParams.get('request_uri')?.startsWith('urn:ietf:params:oauth:request_uri:'))
process.stdout.write(`AUTHORIZE ${authorizationUrl.href}\n`)

const callback = new URL(await readLine())
check('iss in the response', callback.searchParams.get('iss') === issuer)
const tokens = await client.authorizationCodeGrant(
  config,
  callback,
  { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true },
  undefined,
  { DPoP },
)
check('code exchange', tokens.token_type.toLowerCase() === 'dpop' && tokens.refresh_token, { token_type: tokens.token_type })
const idTokenHeader = JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url').toString())
check('id token', tokens.claims()?.aud === clientId && idTokenHeader.alg === idTokenAlg, { alg: idTokenHeader.alg })

const me = new URL(issuer + '/v1/investors/me')
const answer = await client.fetchProtectedResource(config, tokens.access_token, me, 'GET', undefined, undefined, { DPoP })
const investor = await answer.json()
check('dpop call on /v1', answer.status === 200 && investor.id, { status: answer.status, investor: investor.id })

const asBearer = await fetch(me, { headers: { authorization: `Bearer ${tokens.access_token}` } })
check('the token refused as a bearer token', asBearer.status === 401, { status: asBearer.status })
const withoutProof = await fetch(me, { headers: { authorization: `DPoP ${tokens.access_token}` } })
check('the token refused without its proof', withoutProof.status === 401, { status: withoutProof.status })

const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP })
check('dpop-bound refresh', refreshed.token_type.toLowerCase() === 'dpop' && refreshed.refresh_token !== tokens.refresh_token)
const again = await client.fetchProtectedResource(config, refreshed.access_token, me, 'GET', undefined, undefined, { DPoP })
check('the refreshed token works with the same key', again.status === 200, { status: again.status })

const thief = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'))
try {
  await client.refreshTokenGrant(config, refreshed.refresh_token, undefined, { DPoP: thief })
  check('refresh with another key refused', false)
} catch (error) {
  check('refresh with another key refused', error.error === 'invalid_dpop_proof', { error: error.error ?? String(error) })
}
process.stdout.write('DONE\n')
