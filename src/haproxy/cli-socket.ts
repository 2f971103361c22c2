/** One command on an HAProxy CLI socket (master or admin): send a line, read until HAProxy closes. */
import net from 'node:net';
import { CompanionError, commandLine } from '../errors.js';

export function sendCliCommand(socketPath: string, command: string, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.createConnection(socketPath);
    socket.setTimeout(timeoutMs, () => {
      socket.destroy(new CompanionError(`haproxy socket ${socketPath}: no answer to "${commandLine(command)}" within ${timeoutMs} ms`));
    });
    socket.on('connect', () => socket.end(`${command}\n`));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', (hadError) => {
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}
