/**
 * A bare Fastify route in a process of its own (the workers bench's baseline): it answers a
 * worker call's JSON shape with no guest, no registry and no auth. Prints its URL.
 */
import Fastify from 'fastify';

const app = Fastify();
app.post('/echo', async (req) => ({ returns: [(req.body as { args: number[] }).args[0]] }));
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening on ${url}\n`);
