// request-cost.mjs URL METHOD COUNT CONCURRENCY: COUNT requests with keep-alive (Node's fetch), CONCURRENCY at a time.
// Prints one JSON line: requests answered, their statuses, wall time. Loopback only.
const [url, method, countText, concurrencyText] = process.argv.slice(2)
if (!url || !method || !/^[1-9][0-9]*$/.test(countText ?? '') || !/^[1-9][0-9]*$/.test(concurrencyText ?? '')) {
  console.error('usage: node request-cost.mjs URL METHOD COUNT CONCURRENCY')
  process.exit(2)
}
if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname)) {
  console.error('request-cost.mjs talks to loopback only')
  process.exit(2)
}
const count = Number(countText), concurrency = Number(concurrencyText)
const statuses = {}
let started = 0, answered = 0
const t0 = performance.now()
async function lane() {
  while (started < count) {
    started++
    const response = await fetch(url, { method, signal: AbortSignal.timeout(10_000) })
    await response.arrayBuffer()
    statuses[response.status] = (statuses[response.status] ?? 0) + 1
    answered++
  }
}
await Promise.all(Array.from({ length: concurrency }, lane))
console.log(JSON.stringify({ answered, statuses, ms: Math.round(performance.now() - t0) }))
