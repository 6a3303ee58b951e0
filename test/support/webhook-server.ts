// A real HTTP server on 127.0.0.1 standing in for a webhook receiver: it records every request (path, headers,
// body) and answers each as its `answer` says: a status (with headers), or never.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

export interface HookRequest {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

/** The answer to the n-th request (0-based): a status and headers, or "hang" to never answer. */
export type Answer = (n: number) => { status: number; headers?: Record<string, string> } | "hang";

export interface WebhookServer {
  url(path: string): string;
  readonly requests: readonly HookRequest[];
  close(): Promise<void>;
}

export async function startWebhookServer(answer: Answer = () => ({ status: 200 })): Promise<WebhookServer> {
  const requests: HookRequest[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const n = requests.length;
      requests.push({ path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      const said = answer(n);
      if (said === "hang") {
        hanging.push(res);
        return;
      }
      res.writeHead(said.status, said.headers ?? {});
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the webhook server has no port");
  const { port } = address;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    requests,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
