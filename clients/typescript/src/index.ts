// Issuer2 for browser integrators: the four services as typed Connect clients over gRPC-Web, and the API-key
// interceptor every call needs (`authorization: Bearer <key>`, the same convention as Issuer2.Client and the CLI).
//
//   const transport = createIssuerTransport({ baseUrl: "https://issuer.example", apiKey });
//   const offers = createClient(OfferService, transport);
//   const { offerUrl } = await offers.createOffer({ parent: "tenants/acme", profile: "tenants/acme/profiles/diploma" });
import { type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";

export * from "./gen/issuer2/v1/common_pb.js";
export * from "./gen/issuer2/v1/tenant_service_pb.js";
export * from "./gen/issuer2/v1/profile_service_pb.js";
export * from "./gen/issuer2/v1/offer_service_pb.js";
export * from "./gen/issuer2/v1/session_events_service_pb.js";
export { createClient, ConnectError, Code } from "@connectrpc/connect";

/**
 * Sends the API key on every call. `apiKey` may be a function, so a page can keep the key where it wants (for
 * example sessionStorage) and change it without building a new transport.
 */
export function apiKeyInterceptor(apiKey: string | (() => string)): Interceptor {
  return (next) => async (request) => {
    const key = typeof apiKey === "function" ? apiKey() : apiKey;
    request.header.set("authorization", `Bearer ${key}`);
    return next(request);
  };
}

/** Options of {@link createIssuerTransport}. */
export interface IssuerTransportOptions {
  /** The server's HTTP listener (wallets, gRPC-Web), e.g. "https://issuer.example" or "http://127.0.0.1:5080". */
  baseUrl: string;
  /** The tenant's API key (or the admin key for TenantService), or a function returning it. */
  apiKey: string | (() => string);
}

/**
 * A gRPC-Web transport to Issuer2 with the API key attached. Across origins the server must list the page's origin
 * in `Issuer2:CorsOrigins`.
 */
export function createIssuerTransport(options: IssuerTransportOptions): Transport {
  return createGrpcWebTransport({
    baseUrl: options.baseUrl,
    interceptors: [apiKeyInterceptor(options.apiKey)],
  });
}
