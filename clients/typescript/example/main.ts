// The example page: CreateOffer, then a SubscribeEvents stream of that offer's events, over gRPC-Web.
import { createClient, Code, ConnectError, EventType, OfferService, SessionEventsService, createIssuerTransport } from "../src/index.js";

const form = document.getElementById("offer-form") as HTMLFormElement;
const field = (id: string) => (document.getElementById(id) as HTMLInputElement).value.trim();
const status = document.getElementById("status")!;
const events = document.getElementById("events")!;
let stop: AbortController | undefined;

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  stop?.abort();
  stop = new AbortController();
  events.replaceChildren();
  status.removeAttribute("data-error");
  const tenant = `tenants/${field("tenant")}`;
  const transport = createIssuerTransport({ baseUrl: field("server"), apiKey: field("api-key") });
  const offers = createClient(OfferService, transport);
  const sessionEvents = createClient(SessionEventsService, transport);
  try {
    const created = await offers.createOffer({ parent: tenant, profile: `${tenant}/profiles/${field("profile")}` });
    document.getElementById("offer-url")!.textContent = created.offerUrl;
    status.textContent = "Offer created; following its events…";
    // From the oldest retained event of this offer: OFFER_CREATED first, then whatever the wallet does.
    const stream = sessionEvents.subscribeEvents(
      { parent: tenant, filter: { offer: created.offer!.name }, fromOldestRetained: true },
      { signal: stop.signal },
    );
    for await (const message of stream) {
      if (message.kind.case !== "event") continue;
      const item = document.createElement("li");
      item.dataset.type = EventType[message.kind.value.type];
      item.textContent = EventType[message.kind.value.type];
      events.append(item);
    }
  } catch (err) {
    if (stop.signal.aborted) return;
    const error = ConnectError.from(err);
    status.dataset.error = "";
    status.textContent = `Refused: ${Code[error.code]}: ${error.rawMessage}`;
  }
});
