// The live events (docs/events.md) over the session's cookie, reconnecting with a growing
// pause. Nothing is replayed after a reconnect, so listeners of "open" read the state
// again from the REST API.

export class Events {
  constructor() {
    this.handlers = new Map();
    this.pause = 1000;
    this.opened = false;
  }

  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, []);
    this.handlers.get(type).push(handler);
  }

  emit(message) {
    for (const handler of this.handlers.get(message.type) ?? []) {
      try {
        handler(message);
      } catch (error) {
        console.warn("event handler failed", message.type, error);
      }
    }
  }

  start() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/api/v1/events");
    socket.addEventListener("open", () => {
      this.pause = 1000;
      this.emit({ type: "open", again: this.opened });
      this.opened = true;
    });
    socket.addEventListener("message", (event) => this.emit(JSON.parse(event.data)));
    socket.addEventListener("close", () => {
      this.emit({ type: "closed" });
      setTimeout(() => this.start(), this.pause);
      this.pause = Math.min(this.pause * 2, 30000);
    });
  }
}
