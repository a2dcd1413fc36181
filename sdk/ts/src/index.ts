/**
 * The tradeassure TypeScript SDK for browsers and any runtime with fetch: clients of every service over
 * Connect or gRPC-Web, sending the API key, giving mutating calls request ids that are reused on retry,
 * retrying transient failures, iterating over pages and the event feed, and typed errors. For the gRPC
 * protocol (HTTP/2) use "@tradeassure/sdk/node".
 *
 * @example
 * import { createClient, asError } from "@tradeassure/sdk";
 * const ta = createClient("http://localhost:8080", apiKey);
 * for await (const o of ta.allOrders()) console.log(o.id, o.state);
 */
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { registry } from "./payload.js";
import { buildClient, type ClientOptions, type TradeassureClient, type TransportFactory } from "./client.js";

export * from "./common.js";

/** Makes fetch-based transports: Connect and gRPC-Web. */
export const webTransport: TransportFactory = (kind, baseUrl, interceptors, options) => {
  const common = {
    baseUrl,
    interceptors,
    // Event payloads are google.protobuf.Any; their JSON form needs every API message type.
    jsonOptions: { registry },
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.timeoutMs !== undefined ? { defaultTimeoutMs: options.timeoutMs } : {}),
  };
  switch (kind) {
    case "connect":
      return createConnectTransport({ ...common, useBinaryFormat: options.useBinaryFormat ?? false });
    case "grpc-web":
      return createGrpcWebTransport({ ...common, useBinaryFormat: true });
    case "grpc":
      throw new Error('tradeassure: the gRPC protocol needs HTTP/2; use createClient from "@tradeassure/sdk/node", or "connect" or "grpc-web"');
  }
};

/**
 * Returns clients of every service at baseUrl (for example "http://localhost:8080") acting as the
 * principal of apiKey, over Connect (default) or gRPC-Web.
 */
export function createClient(baseUrl: string, apiKey: string, options: ClientOptions = {}): TradeassureClient {
  return buildClient(baseUrl, apiKey, options, webTransport);
}
