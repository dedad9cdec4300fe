// Drives Ferry's SockJS event-bus bridge with the real npm client (@vertx/eventbus-bridge-client.js).
// Usage: node bridge-client.js <bridge url, with ?token=...>
// Prints one JSON object per line: {"address":..., "body":...} per message received, and
// {"refused": <error>, "after": <tag>} each time a send is refused. A send to ferry.build follows
// each registration: the bridge handles a socket's frames in order, so its refusal tells that the
// registration before it is in place. Lines on stdin: a deployment id (also listen on
// ferry.logs.<id>), or "quit".
const EventBus = require('@vertx/eventbus-bridge-client.js');

const eb = new EventBus(process.argv[2]);
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const tags = [];
const print = (err, msg) => (err ? say({ registerError: err }) : say({ address: msg.address, body: msg.body }));
const listen = (address) => {
  eb.registerHandler(address, print);
  tags.push(address);
  eb.send('ferry.build', { id: 'not-allowed' });
};
eb.enableReconnect(false);
eb.onerror = (err) => say({ refused: err, after: tags.shift() });
eb.onclose = () => say({ closed: true });
eb.onopen = () => listen('ferry.events');
let buffered = '';
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  let i;
  while ((i = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, i).trim();
    buffered = buffered.slice(i + 1);
    if (line === 'quit') {
      eb.close();
      process.exit(0);
    }
    if (line) listen('ferry.logs.' + line);
  }
});
