// The demo bank's home page: the personalised block comes from the decision API, and every
// page viewed is posted to it as a web event, so the block changes within the session.
// Open as /demo/#key=<API key>&device=<anonymous id>. No libraries, nothing from a CDN.
(function () {
  "use strict";
  const params = new URLSearchParams(location.hash.slice(1));
  const key = params.get("key") || "";
  const device = params.get("device") || "";
  const session = "demo-" + Math.random().toString(36).slice(2);
  const block = document.getElementById("personalised");
  const status = document.getElementById("status");
  let clock = null;  // the API's clock: events are stamped in the world's time

  function headers(extra) {
    return Object.assign({ "X-API-Key": key }, extra || {});
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "ev-" + Date.now() + "-" + Math.random().toString(36).slice(2);
  }

  function text(tag, value, cls) {
    const node = document.createElement(tag);
    node.textContent = value;
    if (cls) node.className = cls;
    return node;
  }

  function render(decision) {
    block.replaceChildren();
    if (!decision) {
      block.dataset.state = "generic";
      block.dataset.offer = "";
      block.append(text("h2", "Welcome back"), text("p", "Explore our accounts and rates."));
      return;
    }
    block.dataset.state = "offer";
    block.dataset.offer = decision.offer.id;
    block.append(text("h2", decision.offer.headline || decision.offer.id));
    if (decision.offer.tool) {
      const tool = text("a", "Open the " + decision.offer.tool, "tool");
      tool.href = "#";
      tool.id = "tool";
      block.append(tool);
    }
    if (decision.reasons.length) {
      block.append(text("p", "Because of your " + decision.reasons.join(", ") + ".", "why"));
    }
  }

  async function readClock() {
    const answer = await fetch("/readyz");
    if (answer.ok) clock = (await answer.json()).now;
  }

  async function decide() {
    const query = new URLSearchParams({ device_id: device, placement: "web_home" });
    const answer = await fetch("/v1/decisions?" + query, { headers: headers() });
    if (answer.status === 200) render(await answer.json());
    else if (answer.status === 204) render(null);
    else status.textContent = "decision API answered " + answer.status;
    block.dataset.decisions = String(Number(block.dataset.decisions || 0) + 1);
  }

  async function viewed(topic, category) {
    const event = {
      event_id: uuid(),
      event_ts: clock || new Date().toISOString(),
      event_type: "page_view",
      anonymous_id: device,
      session_id: session,
      platform: "web",
      page_path: "/" + (topic || "home"),
      page_category: category || "home",
      product_topic: topic || null,
    };
    const answer = await fetch("/v1/events", {
      method: "POST",
      headers: headers({ "Content-Type": "application/json" }),
      body: JSON.stringify([event]),
    });
    status.textContent = answer.ok ? "page view sent" : "events API answered " + answer.status;
    await decide();
  }

  document.querySelectorAll("nav a").forEach(function (link) {
    link.addEventListener("click", function (e) {
      e.preventDefault();
      viewed(link.dataset.topic, link.dataset.category);
    });
  });

  readClock().then(decide);
})();
