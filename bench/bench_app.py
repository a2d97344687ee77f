"""The reviewer app under load on loopback: page latency (queue, case) and saves per second.

Builds a store of at least --cases cases from the shared seeds: the seed reports go through the
pipeline once, then are stored again and again under distinct doc_ids
(`jirei.webapp.sample_store.copy_of`) with `Store.save_documents`, many documents per
transaction (100,000 cases in about a minute, no NLP per copy). Starts `jirei serve` in its own
process (uvicorn, --workers processes: 2 by default), and runs --clients concurrent clients
(threads, one httpx client and one logged-in reviewer each) through three phases:

  pages   queue pages (no filter, a pillar, a prefecture, a search, unreviewed only, later
          pages, the filters by score, margin, model version, reviewer, notes, disagreement,
          a reviewer's own queue, and the sorts by margin, score, title and last change) and
          case pages (random cases, with and without queue filters)
  saves   each client reviews its own unreviewed cases as a browser does: GET the case page,
          submit its review form with a changed pillar and items, follow to the next case
  mixed   half the clients save while the other half read pages

It reports p50/p95/max latency per page kind and phase, saves per second, failed requests,
and whether the server logged "database is locked" or an error; then checks in the store that
every save is there with its history. All traffic goes to 127.0.0.1; loops are bounded.

    .venv/bin/python bench/bench_app.py                 # 100,000+ cases, 16 clients
    .venv/bin/python bench/bench_app.py --cases 2000 --pages 40 --saves 10   # quicker
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PILLARS = ("live", "work", "nurture", "interact")
SEARCHES = ("商工会議所", "人材 育成", "観光", "DX", "地域 連携")
SORTS = ("margin", "-margin", "score", "-score", "title", "-updated")
GOAL_MS = 150.0
PREFS = ("長野県", "北海道", "東京都", "静岡県", "広島県")


class ReviewForm(HTMLParser):
    """The fields of #review-form as a browser would submit them unchanged."""

    def __init__(self):
        super().__init__()
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "review-form":
            self.inside = True
        if not self.inside or not a.get("name") and tag != "option":
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value", "on")))
            elif kind != "submit":
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = a["name"]
            self.fields.append((a["name"], ""))
        elif tag == "option" and self._select and "selected" in a:
            self.fields = [f for f in self.fields if f[0] != self._select] + [(self._select, a.get("value", ""))]
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields.append((a["name"], ""))

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_fields(html: str) -> dict[str, list[str]]:
    parser = ReviewForm()
    parser.feed(html)
    out: dict[str, list[str]] = defaultdict(list)
    for k, v in parser.fields:
        out[k].append(v)
    return dict(out)


def build(db: Path, cases: int) -> int:
    from jirei import paths
    from jirei.store import Store
    from jirei.webapp.sample_store import copy_of, process_reports

    seeds = sorted(paths.seeds_dir().glob("*.txt"))
    if not seeds:
        raise SystemExit(f"no seeds in {paths.seeds_dir()} (set JIREI_SHARED)")
    reports = [r for r in process_reports(seeds) if r.cases]
    per_copy = sum(len(r.cases) for r in reports)
    copies = math.ceil(cases / per_copy)
    with Store(db) as store:
        store.register_model(reports[0].model_version)
        batch: list[tuple[dict, list[dict]]] = []
        for n in range(copies):
            for r in reports:
                stored = r if n == 0 else copy_of(r, n)
                batch.append((stored.doc, stored.cases))
            if len(batch) >= 200:
                store.save_documents(batch, run_id=None, model_version=reports[0].model_version)
                batch = []
        if batch:
            store.save_documents(batch, run_id=None, model_version=reports[0].model_version)
        store.analyze()
        return store.case_count()


class Client:
    def __init__(self, base: str, name: str, password: str):
        import httpx

        self.http = httpx.Client(base_url=base, follow_redirects=False, timeout=60.0)
        self.name = name
        html = self.http.get("/login").text
        token = _between(html, 'name="csrf_token" value="', '"')
        r = self.http.post("/login", data={"name": name, "password": password, "csrf_token": token})
        if r.status_code != 303:
            raise RuntimeError(f"login of {name} failed: {r.status_code}")

    think_ms = 0.0
    rng = random.Random(0)

    def timed(self, method: str, url: str, **kw):
        if self.think_ms:
            time.sleep(self.rng.expovariate(1000.0 / self.think_ms))
        t0 = time.perf_counter()
        r = self.http.request(method, url, **kw)
        return r, (time.perf_counter() - t0) * 1000


def _between(text: str, start: str, end: str) -> str:
    i = text.index(start) + len(start)
    return text[i:text.index(end, i)]


class Results:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.failures: list[str] = []
        self.saves = 0

    def add(self, phase: str, kind: str, ms: float, ok: bool, what: str) -> None:
        with self.lock:
            self.latency[(phase, kind)].append(ms)
            if not ok:
                self.failures.append(f"{phase} {kind}: {what}")


MODEL = ""  # the store's model version (set in main)


def queue_url(client: Client, rng: random.Random, choice: int | None = None) -> str:
    """A queue page as reviewers ask for them: plain, filtered, sorted, searched, paged."""
    choice = rng.randrange(16) if choice is None else choice
    sort = rng.choice(SORTS)
    return [
        "/queue", f"/queue?pillar={rng.choice(PILLARS)}", f"/queue?pref={rng.choice(PREFS)}",
        f"/queue?q={rng.choice(SEARCHES)}", "/queue?reviewed=no", f"/queue?page={rng.randrange(2, 150)}",
        f"/queue?sort={sort}", f"/queue?sort={sort}&page={rng.randrange(2, 40)}",
        f"/queue?score_min=0.3&score_max=0.6&sort={sort}", f"/queue?margin_max=0.1&pillar={rng.choice(PILLARS)}",
        f"/queue?model={MODEL}&reviewed=no&sort=-score", f"/queue?reviewer=r{rng.randrange(8)}&sort=-updated",
        "/queue?notes=1", "/queue?disagree=1", "/queue?mine=1",
        f"/queue?q={rng.choice(SEARCHES)}&sort=margin&pref={rng.choice(PREFS)}",
    ][choice]


def page_requests(client: Client, rng: random.Random, ids: list[str], n: int, phase: str, res: Results,
                  stop: threading.Event | None = None) -> None:
    for i in range(n):
        if stop is not None and stop.is_set():
            break
        if i % 2 == 0:
            url = queue_url(client, rng)
            kind = "queue"
        else:
            case_id = rng.choice(ids)
            url = f"/case/{case_id}" + (f"?pillar={rng.choice(PILLARS)}" if rng.random() < 0.5 else "")
            kind = "case"
        r, ms = client.timed("GET", url)
        res.add(phase, kind, ms, r.status_code == 200, f"{url} -> {r.status_code}")


def save_requests(client: Client, mine: list[str], phase: str, res: Results) -> None:
    for case_id in mine:
        r, ms = client.timed("GET", f"/case/{case_id}?reviewed=no")
        res.add(phase, "case", ms, r.status_code == 200, f"case {case_id} -> {r.status_code}")
        form = form_fields(r.text)
        current = (form.get("pillar") or ["live"])[0]
        form["pillar"] = [PILLARS[(PILLARS.index(current) + 1) % 4] if current in PILLARS else "work"]
        form["item"] = sorted(set(form.get("item", [])) | {str(1 + sum(map(ord, case_id)) % 10)})
        form["theme"] = [""]
        r, ms = client.timed("POST", f"/case/{case_id}/save", data=form)
        ok = r.status_code == 303
        res.add(phase, "save", ms, ok, f"save {case_id} -> {r.status_code} {r.text[:200] if not ok else ''}")
        if ok:
            with res.lock:
                res.saves += 1


def run_phase(name: str, workers: list, res: Results) -> float:
    threads = [threading.Thread(target=w, name=f"{name}-{i}") for i, w in enumerate(workers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load bench of the reviewer app on loopback.")
    parser.add_argument("--cases", type=int, default=100000, help="at least this many cases (default: %(default)s)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default: %(default)s)")
    parser.add_argument("--pages", type=int, default=120, help="page requests per client in the pages phase")
    parser.add_argument("--saves", type=int, default=40, help="saves per client in the saves phase")
    parser.add_argument("--db", help="keep the store here (default: a temporary folder)")
    parser.add_argument("--think", type=float, default=0.0, metavar="MS",
                        help="mean pause of a client between its requests, as a reviewer reading (exponential; "
                             "default: %(default)s: none, each client sends its next request at once)")
    parser.add_argument("--workers", type=int, default=2, metavar="N",
                        help="server processes (`jirei serve --workers N`, default: %(default)s)")
    args = parser.parse_args(argv)

    from jirei.store import CaseQuery, Store
    from jirei.webapp.sample_store import add_users
    from jirei.webapp.server_thread import free_port

    tmp = tempfile.TemporaryDirectory(prefix="jirei-bench-app-")
    db = Path(args.db) if args.db else Path(tmp.name) / "bench.db"
    t0 = time.perf_counter()
    if not db.exists():
        n_cases = build(db, args.cases)
        print(f"store: {n_cases:,} cases built in {time.perf_counter() - t0:.1f} s ({db})")
    else:
        with Store(db) as store:
            n_cases = store.case_count()
        print(f"store: {n_cases:,} cases ({db}, reused)")
    users = {f"r{i}": ("reviewer", f"bench-password-{i}") for i in range(args.clients)}
    add_users(db, users)
    with Store(db) as store:
        ids = store.iter_case_ids()
        unreviewed = store.iter_case_ids(CaseQuery(reviewed=False))
        global MODEL
        MODEL = store.models()[0]["version"] if store.models() else ""
        reviewed_before = store.queue_counts(CaseQuery())["reviewed"]

    port = free_port()
    log = Path(tmp.name) / "server.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("w") as log_fh:
        server = subprocess.Popen([sys.executable, "-m", "jirei.webapp", "serve", "--db", str(db), "--port", str(port),
                                   "--workers", str(args.workers), "--log-level", "warning"],
                                  stdout=log_fh, stderr=subprocess.STDOUT, env=env,
                                  cwd=str(REPO))
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, server)
        clients = [Client(base, name, pw) for name, (_, pw) in users.items()]
        for i, c in enumerate(clients):
            c.think_ms, c.rng = args.think, random.Random(1000 + i)
        res = Results()
        rngs = [random.Random(i) for i in range(args.clients)]
        # warm-up: each client one queue and one case page (templates compiled, connections open),
        # then each kind of queue page once (the server has the counts of those filters, as one that
        # has run a while has; a filter seen for the first time is counted while its page waits)
        for c, rng in zip(clients, rngs):
            page_requests(c, rng, ids, 2, "warmup", res)
        run_phase("warmup", [lambda c=c, r=r: [c.timed("GET", queue_url(c, r, k)) for k in range(16)]
                             for c, r in zip(clients, rngs)], res)
        cpu_before = _cpu_seconds(server.pid)
        client_before = time.process_time()

        wall = {}
        wall["pages"] = run_phase("pages", [lambda c=c, r=r: page_requests(c, r, ids, args.pages, "pages", res)
                                            for c, r in zip(clients, rngs)], res)
        per = args.saves
        chunks = [unreviewed[i * per:(i + 1) * per] for i in range(args.clients)]
        wall["saves"] = run_phase("saves", [lambda c=c, m=m: save_requests(c, m, "saves", res)
                                            for c, m in zip(clients, chunks)], res)
        saves_phase = res.saves
        half = max(1, args.clients // 2)
        stop = threading.Event()
        rest = unreviewed[args.clients * per:]
        writer_chunks = [rest[i * per:(i + 1) * per] for i in range(half)]

        def writer(c, m):
            save_requests(c, m, "mixed", res)

        readers = [lambda c=c, r=r: page_requests(c, r, ids, args.pages, "mixed", res, stop)
                   for c, r in zip(clients[half:], rngs[half:])]
        writers = [lambda c=c, m=m: writer(c, m) for c, m in zip(clients[:half], writer_chunks)]
        wall["mixed"] = run_phase("mixed", writers + readers, res)
        mixed_saves = res.saves - saves_phase
        cpu_used = _cpu_seconds(server.pid) - cpu_before
        client_used = time.process_time() - client_before
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
    server_log = log.read_text(encoding="utf-8", errors="replace")

    think = f"{args.think:.0f} ms mean pause between a client's requests" if args.think else "no pause between requests"
    processes = "one server process" if args.workers == 1 else f"{args.workers} server processes"
    print(f"\n{args.clients} clients ({think}), loopback, {processes} (uvicorn, threads), {n_cases:,} cases")
    print(f"{'phase':<7} {'kind':<6} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for (phase, kind), values in sorted(res.latency.items()):
        if phase == "warmup":
            continue
        print(f"{phase:<7} {kind:<6} {len(values):>5} {statistics.median(values):>8.1f} "
              f"{percentile(values, 0.95):>8.1f} {max(values):>8.1f}")
    print(f"\nsaves phase: {saves_phase} saves in {wall['saves']:.1f} s = {saves_phase / wall['saves']:.1f} saves/s "
          f"(each: GET the case page, POST the form)")
    print(f"mixed phase: {mixed_saves} saves in {wall['mixed']:.1f} s = {mixed_saves / wall['mixed']:.1f} saves/s "
          f"with {args.clients - half} clients reading")
    pages_n = sum(len(v) for (p, _), v in res.latency.items() if p == "pages")
    print(f"pages phase: {pages_n} pages in {wall['pages']:.1f} s = {pages_n / wall['pages']:.1f} pages/s")
    locked = server_log.count("database is locked")
    errors = server_log.count("Traceback")
    requests = sum(len(v) for (p, _), v in res.latency.items() if p != "warmup")
    print(f"clients' CPU (this process, same cores): {client_used:.1f} s = {1000 * client_used / requests:.1f} ms per "
          "request")
    print(f"server CPU: {cpu_used:.1f} s for {requests} requests = {1000 * cpu_used / requests:.1f} ms per request; "
          f"machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"failed requests: {len(res.failures)}; 'database is locked' in server log: {locked}; "
          f"server tracebacks: {errors}")
    for f in res.failures[:10]:
        print("  " + f)

    with Store(db) as store:
        reviewed = store.queue_counts(CaseQuery())["reviewed"] - reviewed_before
        missing = [cid for chunk in chunks for cid in chunk
                   if not (store.case(cid)["pillar"] or {}).get("source") == "reviewer"]
    print(f"store: {reviewed} cases newly reviewed (expected {res.saves}); saves missing a reviewer pillar: "
          f"{len(missing)}")
    worst = max(percentile(v, 0.95) for (p, k), v in res.latency.items() if p != "warmup")
    every = [ms for (p, _), v in res.latency.items() if p != "warmup" for ms in v]
    ok = not res.failures and not locked and not errors and reviewed == res.saves and not missing
    print(f"\nall requests (pages and saves): n {len(every)}, p95 {percentile(every, 0.95):.1f} ms; "
          f"worst p95 of one kind and phase (saves included): {worst:.1f} ms "
          f"(goal < {GOAL_MS:.0f} ms) -> {'met' if worst < GOAL_MS else 'NOT met'}; "
          f"{'no failed request, no lock error' if ok else 'FAILURES (see above)'}")
    tmp.cleanup()
    return 0 if ok else 1


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and its live children (the server's worker
    processes; Linux /proc), or 0 where there is none."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        children = [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                    for c in (task / "children").read_text().split()]
    except (OSError, IndexError, ValueError):
        return 0.0
    return own + sum(_cpu_seconds(c) for c in children)


def _wait_ready(base: str, server: subprocess.Popen, timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped (exit {server.returncode})")
        try:
            if httpx.get(base + "/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not start in time")


if __name__ == "__main__":
    sys.exit(main())
