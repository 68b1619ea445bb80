// A real OpenID Connect provider for the test suite, standing in for
// LinkedIn: panva/oidc-provider with its built-in development login and
// consent pages (any login and password are accepted; the login becomes the
// member's `sub`). Started by tests/it/common/oidc.rs on 127.0.0.1.
//
//   PORT=… CLIENT_ID=… CLIENT_SECRET=… REDIRECT_URI=… node provider.mjs
//
// Prints "ready <issuer>" once it listens.
import Provider from 'oidc-provider';

const { PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI } = process.env;
if (!PORT || !CLIENT_ID || !CLIENT_SECRET || !REDIRECT_URI) {
  console.error('PORT, CLIENT_ID, CLIENT_SECRET and REDIRECT_URI are required');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${PORT}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    // LinkedIn takes the client secret in the token request's body.
    token_endpoint_auth_method: 'client_secret_post',
  }],
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          name: `Member ${id}`,
          email: `${id}@members.example`,
          email_verified: true,
          picture: `https://media.members.example/${encodeURIComponent(id)}.jpg`,
        };
      },
    };
  },
  claims: {
    openid: ['sub'],
    profile: ['name', 'picture'],
    email: ['email', 'email_verified'],
  },
  // LinkedIn puts the profile claims into the ID token itself.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['seatgate-test-only'] },
});
provider.proxy = false;

provider.listen(Number(PORT), '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
