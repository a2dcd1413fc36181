/**
 * The tradeassure TypeScript SDK for Node: everything "@tradeassure/sdk" has, with transports on Node's
 * own HTTP stack, so the gRPC protocol (HTTP/2, cleartext h2c for http:// URLs) works too.
 *
 * @example
 * import { createClient } from "@tradeassure/sdk/node";
 * const ta = createClient("http://localhost:8080", apiKey, { transport: "grpc" });
 */
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { registry } from "./payload.js";
import { buildClient, type ClientOptions, type TradeassureClient, type TransportFactory } from "./client.js";

export * from "./common.js";

/** Makes transports on Node's http and http2 modules: Connect and gRPC-Web over HTTP/1.1, gRPC over HTTP/2. */
export const nodeTransport: TransportFactory = (kind, baseUrl, interceptors, options) => {
  const common = {
    baseUrl,
    interceptors,
    // Event payloads are google.protobuf.Any; their JSON form needs every API message type.
    jsonOptions: { registry },
    ...(options.timeoutMs !== undefined ? { defaultTimeoutMs: options.timeoutMs } : {}),
  };
  switch (kind) {
    case "connect":
      return createConnectTransport({ ...common, httpVersion: "1.1", useBinaryFormat: options.useBinaryFormat ?? false });
    case "grpc-web":
      return createGrpcWebTransport({ ...common, httpVersion: "1.1", useBinaryFormat: true });
    case "grpc":
      return createGrpcTransport(common);
  }
};

/**
 * Returns clients of every service at baseUrl acting as the principal of apiKey, over Connect (default),
 * gRPC-Web or gRPC.
 */
export function createClient(baseUrl: string, apiKey: string, options: ClientOptions = {}): TradeassureClient {
  return buildClient(baseUrl, apiKey, options, nodeTransport);
}
