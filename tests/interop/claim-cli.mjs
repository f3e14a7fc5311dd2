// Usage: node claim-cli.mjs <offer-url> [tx_code] — claims and verifies one credential, prints JSON.
import { claim, verifyCredential } from './wallet.mjs';

const [offerUrl, txCode] = process.argv.slice(2);
try {
  const result = await claim(offerUrl, { txCode });
  const verified = await verifyCredential(result.credential, { expectedHolderJwk: result.publicJwk });
  console.log(JSON.stringify({ ok: true, claims: verified.claims, disclosed: verified.disclosed, header: verified.header }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e?.message ?? e), details: e?.response ?? e?.errorResponse ?? null }));
  process.exitCode = 1;
}
