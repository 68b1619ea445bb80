// A real OpenID Connect provider for the test suite, standing in for
// LinkedIn: panva/oidc-provider with its built-in development login and
// consent pages (any login and password are accepted; the login becomes the
// member's `sub`). Started by tests/it/common/oidc.rs on 127.0.0.1.
//
//   PORT=… CLIENT_ID=… CLIENT_SECRET=… REDIRECT_URI=… [MODE=linkedin|standard] [PKCE=on|off] node provider.mjs
//
// MODE=linkedin (the default) deviates from the standard the way "Sign In with
// LinkedIn using OpenID Connect" does, as projects that integrated it report:
// - the ID token carries no `nonce`, even when the authorization request sent
//   one (python-social-auth/social-core#833, authlib/authlib#763,
//   oqtane/oqtane.framework#5532, nextauthjs/next-auth#8831);
// - PKCE is off unless LinkedIn switched it on for the app (PKCE=on here): the
//   challenge is ignored, and any `code_verifier` at the token endpoint fails
//   the exchange with 401 `invalid_client` "Client authentication failed"
//   (UsefulSoftwareCo/executor#2087, authlib/authlib#719, next-auth#8831,
//   directus/directus#23645);
// - the client authenticates with client_id/client_secret in the POST body only;
// - the issuer has a path, https://www.linkedin.com/oauth (here /oauth on the
//   local port), so discovery is {issuer}/.well-known/openid-configuration;
// - the ID token's `email_verified` is the string "true" (logto-io/logto#6843)
//   and the userinfo `locale` is an object {country, language} (LinkedIn's
//   "Sign In with LinkedIn using OpenID Connect" documentation).
// MODE=standard is a conforming provider: nonce echoed, PKCE required.
//
// Prints "ready <issuer>" once it listens.
import http from 'node:http';
import querystring from 'node:querystring';

import Provider from 'oidc-provider';

const { PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI } = process.env;
const MODE = process.env.MODE ?? 'linkedin';
const PKCE = MODE === 'standard' || process.env.PKCE === 'on';
if (!PORT || !CLIENT_ID || !CLIENT_SECRET || !REDIRECT_URI || !['linkedin', 'standard'].includes(MODE)) {
  console.error('PORT, CLIENT_ID, CLIENT_SECRET and REDIRECT_URI are required; MODE is linkedin or standard');
  process.exit(2);
}
const linkedin = MODE === 'linkedin';
const prefix = linkedin ? '/oauth' : '';
const issuer = `http://127.0.0.1:${PORT}${prefix}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  clientAuthMethods: linkedin ? ['client_secret_post'] : ['client_secret_post', 'client_secret_basic'],
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims(use) {
        const claims = {
          sub: id,
          name: `Member ${id}`,
          email: `${id}@members.example`,
          email_verified: true,
          picture: `https://media.members.example/${encodeURIComponent(id)}.jpg`,
        };
        if (linkedin) {
          claims.email_verified = 'true';
          claims.locale = use === 'userinfo' ? { country: 'US', language: 'en' } : 'en-US';
        }
        return claims;
      },
    };
  },
  claims: {
    openid: ['sub'],
    profile: ['name', 'picture', 'locale'],
    email: ['email', 'email_verified'],
  },
  // LinkedIn puts the profile claims into the ID token itself.
  conformIdTokenClaims: false,
  pkce: { required: () => PKCE },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['seatgate-test-only'] },
});
provider.proxy = false;

async function readAll(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

if (linkedin) {
  provider.use(async (ctx, next) => {
    if (ctx.path === '/auth') {
      const params = new URLSearchParams(ctx.querystring);
      params.delete('nonce');
      if (!PKCE) {
        params.delete('code_challenge');
        params.delete('code_challenge_method');
      }
      ctx.querystring = params.toString();
      // oidc-provider finds its mount point by comparing url and originalUrl.
      ctx.req.originalUrl = `${prefix}${ctx.url}`;
    }
    if (ctx.path === '/token' && ctx.method === 'POST') {
      const raw = await readAll(ctx.req);
      if (!PKCE && querystring.parse(raw).code_verifier !== undefined) {
        ctx.status = 401;
        ctx.body = { error: 'invalid_client', error_description: 'Client authentication failed' };
        return;
      }
      ctx.request.body = raw;
    }
    await next();
  });
}

const callback = provider.callback();
http.createServer((req, res) => {
  if (!req.url.startsWith(`${prefix}/`)) {
    res.statusCode = 404;
    res.end();
    return;
  }
  // Mounted as express mounts it: oidc-provider builds its endpoint URLs
  // from originalUrl, the handler routes on url.
  req.originalUrl = req.url;
  req.url = req.url.slice(prefix.length);
  callback(req, res);
}).listen(Number(PORT), '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
