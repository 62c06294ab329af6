"""The report: a table on stdout, or with `--json` one JSON document (the same figures).

One section per phase run, after a header that names the machine (its usable cores and load
average: the load generator, the proxies and the emulator share them, so compare ratios and CPU
per request, not absolute requests/s) and the versions.
"""

from __future__ import annotations

import json
import math

from bench.common import Message


def output(report: Message, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)


def print_report(report: Message) -> None:
    env = report["environment"]
    print(
        f"spproxy bench: {env['cpus_usable']} usable CPUs (of {env['cpus']}; load average "
        f"{' '.join(f'{x:g}' for x in env['load_average'])} at the start); the load generator, "
        "the proxies and the emulator share them: compare ratios, not absolute numbers."
    )
    print(
        f"spproxy {env['spproxy']}, Python {env['python']}, aiohttp {env['aiohttp']} (C parser: "
        f"{'yes' if env['aiohttp_c_parser'] else 'no'}); "
        f"signing {'on' if env['signing'] else 'off'}; phases: {', '.join(report['phases'])}."
    )
    if "throughput" in report:
        print_load(report)
    if "demo_to_ready_ms" in report.get("startup", {}):
        print_startup(report)
    if "quota" in report:
        print_quota(report["quota"])
    if "rdt" in report:
        print_rdt(report["rdt"])
    if "soak" in report:
        print_soak(report["soak"])
    if "accounts" in report:
        print_accounts(report["accounts"])
    if "replicas" in report:
        print_replicas(report["replicas"])
    if "saturation" in report:
        print_saturation(report["saturation"])
    if report["errors"]:
        print()
        print(f"NON-200 ANSWERS OR CLIENT ERRORS: {report['errors']}")
    print()
    print(f"Total {report['total_s']:.0f} s.")


def print_load(report: Message) -> None:
    env = report["environment"]
    print()
    print(
        f"Load phases: spproxy logging {env['spproxy_logging']}, pacing {env['spproxy_pacing']}; "
        f"{env['requests']}; concurrency {env['concurrency']} from {env['load_processes']} "
        "load process(es)."
    )
    print_throughput(report["throughput"], env["signing"])
    print()
    print_latency(report["latency"])
    print()
    tok = report["tokens"]
    per = tok["exchanges_per_request"]
    print(
        f"Tokens: {tok['spproxy_lwa_exchanges']} LWA exchange(s) for "
        f"{tok['spproxy_requests_forwarded']} requests through spproxy "
        f"({per:.2g} per request); the emulator received "
        f"{tok['emulator_requests_received_since_spproxy_start']} SP-API requests since "
        f"spproxy started ({tok['of_which_from_bare_and_direct']} of them from bare and direct)."
    )
    print()
    print("Memory, VmRSS MiB (peak VmHWM)")
    for name in ("spproxy", "bare"):
        cells = ", ".join(
            f"{when} {values['VmRSS']:.1f} ({values['VmHWM']:.1f})"
            for when, values in report["memory_mib"][name].items()
        )
        print(f"  {name:10}{cells}")


def print_throughput(thr: Message, signing: bool) -> None:
    print(f"Throughput ({thr['rounds_per_proxy']} alternating rounds of {thr['round_s']:g} s each)")
    print(
        f"  {'':10}{'req/s':>9}{'median':>9}{'min':>9}{'max':>9}   CPU us/request"
        "  (proxy / emulator / load)"
    )
    for name in ("spproxy", "bare"):
        row = thr[name]
        cpu = row["cpu_us_per_request"]
        use = row["cpu_utilisation"]
        print(
            f"  {name:10}{row['rps']:>9.0f}{row['rps_median_round']:>9.0f}"
            f"{row['rps_min_round']:>9.0f}{row['rps_max_round']:>9.0f}   "
            f"{cpu.get('proxy', 0):>6.0f} / {cpu.get('emulator', 0):>4.0f} / "
            f"{cpu.get('load', 0):>4.0f}   (cores busy {use.get('proxy', 0):.2f} / "
            f"{use.get('emulator', 0):.2f} / {use.get('load', 0):.2f})"
        )
    low, high = thr["ratio_round_pairs_min_max"]
    print(
        f"  ratio spproxy/bare: {thr['ratio_spproxy_over_bare']:.3f} overall, "
        f"{thr['ratio_median_of_round_pairs']:.3f} median of round pairs "
        f"(range {low:.3f}-{high:.3f})"
        f"; proxy CPU per request spproxy/bare: {thr['proxy_cpu_per_request_ratio']:.3f}"
    )
    if not signing:
        verdict = "met" if thr["ratio_spproxy_over_bare"] >= 0.9 else "NOT met"
        print(f"  target spproxy/bare >= 0.9 (signing off): {verdict}")


def print_latency(lat: Message) -> None:
    print(f"Latency, sequential (concurrency 1, {lat['direct']['n']} requests per target)")
    print(f"  {'':10}{'p50 us':>9}{'p99 us':>9}{'mean us':>9}{'+p50':>9}{'+p99':>9}")
    for name in ("direct", "bare", "spproxy"):
        row = lat[name]
        added = lat.get(f"{name}_added")
        extra = f"{added['p50_us']:>9.0f}{added['p99_us']:>9.0f}" if added else f"{'':>18}"
        print(f"  {name:10}{row['p50_us']:>9.0f}{row['p99_us']:>9.0f}{row['mean_us']:>9.0f}{extra}")
    print("  (+p50/+p99: added over direct to the emulator)")


def print_startup(report: Message) -> None:
    env = report["environment"]
    st = report["startup"]
    print()
    print("Start-up (fresh interpreters; bytecode cache primed in a temporary PYTHONPYCACHEPREFIX)")
    print(
        f"  `python -m spproxy demo` to /_spproxy/ready 200: "
        f"{st['demo_to_ready_ms']:.0f} ms median of {st['demo_to_ready_ms_all']}; exit after "
        f"SIGINT {st['demo_exit_codes_after_sigint']}"
    )
    print(
        f"  python -c 'import spproxy.app' {st['python_c_import_spproxy_app_ms']:.0f} ms wall "
        f"(python -c pass {st['python_c_pass_ms']:.0f} ms); the import alone "
        f"{st['import_spproxy_app_cumulative_ms']:.0f} ms (-X importtime cumulative, median of 3"
        f"; aiohttp's share {st['import_of_which_aiohttp_ms']:.0f} ms)"
    )
    in_bench = st.get("botocore_in_bench_spproxy_process", "(load phase not run)")
    print(
        f"  botocore loaded, unsigned proxy: {st['botocore_loaded_unsigned']} (python -c), "
        f"{in_bench} (the bench's spproxy process, signing "
        f"{'on' if env['signing'] else 'off'}); signed proxy, as a check of the check: "
        f"{st['botocore_loaded_signed_check']}"
    )


def print_quota(q: Message) -> None:
    amazon, model = q["amazon_plan"], q["spproxy_model_plan"]
    print()
    print(
        f"Quota: {q['calls']} {q['operation']} calls per run, {q['concurrency']} in flight, as "
        f"fast as each proxy lets them; Amazon (the emulator) enforces {amazon['rate']:g}/s "
        f"burst {amazon['burst']} for the seller"
    )
    print(
        f"  (spproxy: pacing on, retries default; cold, it paces by the model's plan "
        f"({model['rate']:g}/s burst {model['burst']}) until x-amzn-RateLimit-Limit says "
        f"{amazon['rate']:g}/s; warm: the same process again. bare: no pacing, no retries)"
    )
    print(
        f"  {'':15}{'Amazon 429s':>12}{'/1000':>8}{'Amazon got':>11}{'elapsed s':>10}"
        f"{'p50 ms':>9}{'max ms':>9}   client saw"
    )
    for name in ("spproxy", "bare", "spproxy_warm"):
        row = q[name]
        lat = row["client_latency_ms"]
        seen = ", ".join(f"{k}: {v}" for k, v in row["client_outcomes"].items())
        label = {"spproxy": "spproxy, cold", "spproxy_warm": "spproxy, warm"}.get(name, name)
        print(
            f"  {label:15}{row['amazon_429']:>12}{row['amazon_429_per_1000_calls']:>8.1f}"
            f"{row['amazon_received']:>11}{row['elapsed_s']:>10.2f}"
            f"{lat['p50'] or 0:>9.1f}{lat['max'] or 0:>9.1f}   {seen}"
        )
    learned = q["spproxy"].get("bucket_after")
    if learned:
        print(
            f"  spproxy's bucket afterwards: {learned['rate']:g}/s burst {learned['burst']} (the "
            "rate learned from Amazon's header; the burst stays the model's)."
        )
    cold = q["spproxy"]
    held_s = (cold["client_latency_ms"]["max"] or 0) / 1000
    if held_s > 2 * q["concurrency"] / amazon["rate"] + 0.5:
        print(
            f"  Cold, this run: a call was held {held_s:.1f} s, longer than the learned "
            f"{amazon['rate']:g}/s explains (a machine too busy to keep time?): "
            f"{cold['amazon_429']} Amazon 429(s), which spproxy retried."
        )
    else:
        print(
            f"  Cold, this run: calls queued at the model's {model['rate']:g}/s before Amazon's "
            f"first answer were planned again at the learned {amazon['rate']:g}/s (none held over "
            f"{held_s:.1f} s): {cold['amazon_429']} Amazon 429(s)."
        )


def print_rdt(r: Message) -> None:
    print()
    print(
        f"RDT mints: {r['calls']} restricted calls, one per {r['fake_clock_step_s']:g} s of a "
        f"fake clock ({r['simulated_hours']:g} h simulated), cycling "
        f"{', '.join(r['operations'])} with varying ids (existing and 404); RDTs live "
        f"{r['rdt_expires_in_s']} s, renewed {r['spproxy_refresh_ahead_s']:g} s ahead"
    )
    print(
        f"  {'bundle limit':17}{'mints':>6}{'/1000 calls':>13}{'/hour':>8}{'resources/mint':>16}"
        f"{'calls waited':>14}   answers"
    )
    for name in ("bundled", "unbundled"):
        row = r[name]
        label = f"{name} ({row['bundle_limit']})"
        answers = ", ".join(f"{k}: {v}" for k, v in row["statuses"].items())
        print(
            f"  {label:17}{row['amazon_rdt_mints']:>6}{row['mints_per_1000_calls']:>13.1f}"
            f"{row['mints_per_simulated_hour']:>8.2f}{row['resources_per_mint_mean'] or 0:>16.2f}"
            f"{row['credentials'].get('rdt-minted', 0):>14}   {answers}"
        )
    ratio = r["ratio_unbundled_over_bundled"]
    print(
        f"  unbundled/bundled: {ratio if ratio is not None else '-'}x the mints (Amazon's count, "
        "/_emulator/stats rdt_mints). Bundled, each operation first seen mints (with those seen "
        "before), then one mint renews them all; unbundled, each renews on its own. Calls waited: "
        "calls held for a mint; the others were served a cached RDT (renewals run in the "
        "background)."
    )


def print_soak(k: Message) -> None:
    rss, growth, st, goals = (
        k["rss_mib"],
        k["rss_growth_after_warm_up_mib"],
        k["status"],
        k["goals"],
    )
    warm = k["warm_up"]
    lat = k["client_latency_ms"]
    print()
    print(
        f"Soak: {k['documents']:,} distinct {k['report_type']} documents (one RDT each, for the "
        f"document's own path) spread over {k['seconds']:g} s, with getMarketplaceParticipations,"
        f" getOrders, getOrder, getOrderAddress ({k['concurrency_ordinary']} in flight); a fresh "
        f"spproxy (limits.document_rdts {k['spproxy_limits_document_rdts']}), pacing off, "
        "Amazon's rate limits off"
    )
    answers = "; ".join(
        f"{op} " + ", ".join(f"{status}: {n:,}" for status, n in counts.items())
        for op, counts in k["statuses"].items()
    )
    print(
        f"  {k['requests_sent']:,} requests in {k['elapsed_s']:g} s ({k['requests_per_s']:,.0f}/s)"
        f"; answers: {answers}"
    )
    if k["client_errors"]:
        print(f"  client errors: {k['client_errors']}")
    credentials = ", ".join(f"{kind}: {n:,}" for kind, n in k["document_credentials"].items())
    print(
        f"  documents sent {k['documents_sent']:,} (credential: {credentials}); RDTs minted: "
        f"Amazon counted {k['amazon_rdt_mints']:,}, spproxy says {k['spproxy_rdt_mints']}; "
        f"every document minted: {'yes' if k['every_document_minted'] else 'NO'}"
    )
    print(
        f"  client latency p50/p99/max ms: documents {lat['documents']['p50']}/"
        f"{lat['documents']['p99']}/{lat['documents']['max']}, ordinary "
        f"{lat['ordinary']['p50']}/{lat['ordinary']['p99']}/{lat['ordinary']['max']}"
    )
    print(
        f"  spproxy VmRSS MiB: start {rss['start']:.1f}, warm-up {rss['warm_up']:.1f} (at "
        f"{warm['at_s']} s, {warm['amazon_rdt_mints']} mints; the first {warm['documents']:,} "
        f"documents or {warm['or_seconds']:g} s), peak after warm-up "
        f"{rss['peak_after_warm_up']:.1f} ({growth['peak']:+.1f}), end idle {rss['end_idle']:.1f} "
        f"({growth['end']:+.1f}); VmHWM {rss['vmhwm_end']:.1f}; over the second half "
        f"{k['rss_growth_second_half_mib']:+.1f} (from {rss['half_time']:.1f})"
    )
    slowest = st["slowest_under_load"]
    print(
        f"  /_spproxy/status: {st['start_bytes']:,} bytes at the start, at most "
        f"{st['peak_bytes']:,} (at {st['peak_at_s']} s), {st['end_bytes']:,} at the end; served "
        f"in {st['end_ms_idle_median']:.1f} ms idle at the end (median of 5; json.dumps of it in "
        f"the bench {st['bench_json_dumps_ms']:.1f} ms), slowest under load "
        f"{slowest['ms']:.1f} ms ({slowest['bytes']:,} bytes at {slowest['at_s']} s)"
    )
    figures = ", ".join(f"{name} {value}" for name, value in st["rdt_figures_end"].items())
    print(f"  status at the end, of RDTs: {figures or '(nothing named rdt or restricted)'}")
    print_soak_timeline(k["timeline"])
    print(
        f"  {goals['rss']}: RSS growth after warm-up {growth['peak']:+.1f} MiB at its peak "
        f"(goal <= {goals['rss_growth_after_warm_up_mib_max']:g} MiB)"
    )
    print(
        f"  {goals['status']}: /_spproxy/status at most {st['peak_bytes']:,} bytes (goal <= "
        f"{goals['status_bytes_max']:,} bytes, 64 KiB)"
    )


def print_soak_timeline(timeline: list[Message]) -> None:
    """About ten rows of the timeline, the last one always."""
    if not timeline:
        return
    step = max(1, math.ceil(len(timeline) / 10))
    shown = (
        timeline[::step]
        if timeline[-1] in timeline[::step]
        else [
            *timeline[::step],
            timeline[-1],
        ]
    )
    print(f"  {'t s':>8}{'mints':>9}{'RSS MiB':>10}{'status bytes':>15}{'status ms':>11}")
    for row in shown:
        print(
            f"  {row['t_s']:>8.0f}{row['amazon_rdt_mints']:>9,}{row['rss_mib']:>10.1f}"
            f"{row['status_bytes']:>15,}{row['status_ms']:>11.1f}"
        )


def print_accounts(results: list[Message]) -> None:
    print()
    print("Many accounts: a real `spproxy serve` with this many accounts, from the process's start")
    print(
        "  accounts  load s  ready s  RSS MiB  all tokens s  RSS MiB  KiB/account  CPU us/req  "
        "LWA exchanges  in flight  per second"
    )
    for r in results:
        per_account = (
            f"{r['kib_per_account_ready']:.2f}/{r['kib_per_account_all_tokens']:.2f}"
            if "kib_per_account_ready" in r
            else "-"
        )
        cpu = f"{r['cpu_us_per_request']:.0f}"
        if "cpu_vs_fewest" in r:
            cpu += f" x{r['cpu_vs_fewest']:.2f}"
        print(
            f"  {r['accounts']:>8,}  {r['load_s']:>6.2f}  {r['ready_s']:>7}  "
            f"{r['rss_at_ready_mib']:>7}  {r['all_tokens_s']:>12}  {r['rss_all_tokens_mib']:>7}  "
            f"{per_account:>11}  {cpu:>10}  {r['lwa_exchanges']:>13,}  "
            f"{r['most_lwa_in_flight']:>9}  {r['most_lwa_per_second']:>10}"
        )
    print(
        "  KiB/account: RSS over the fewest accounts' at ready / with every token held; "
        "CPU us/req: spproxy's, x that with the fewest"
    )


REPLICA_CONFIGURATIONS = {
    "memory_1": "1 replica, memory",
    "memory_3": "3 replicas, memory",
    "redis_3": "3 replicas, Redis",
}


def print_replicas(r: Message) -> None:
    print()
    if "skipped" in r:
        print(f"Replicas: skipped: {r['skipped']}")
        return
    plan = r["amazon_plan"]
    print(
        f"Replicas: {r['calls']} {r['operation']} calls per configuration, {r['concurrency']} in "
        f"flight, round-robin over the replicas (fresh processes, pacing on, cold); Amazon (the "
        f"emulator) enforces {plan['rate']:g}/s burst {plan['burst']} for the seller. Before "
        f"them, {r['restricted_calls_per_replica']} getOrderAddress calls for one order through "
        f"each replica at once. Redis {r['redis']['version']} on loopback (PING from the bench "
        f"p50 {r['redis']['ping_us']['p50']:.0f} us)."
    )
    print(
        f"  {'':20}{'Amazon 429s':>12}{'/1000':>7}{'spproxy 429s':>13}{'elapsed s':>10}"
        f"{'max ms':>9}{'LWA exch.':>10}{'RDT mints':>10}   client saw"
    )
    for name, label in REPLICA_CONFIGURATIONS.items():
        row = r[name]
        seen = ", ".join(f"{k}: {v}" for k, v in row["client_outcomes"].items())
        print(
            f"  {label:20}{row['amazon_429']:>12}{row['amazon_429_per_1000_calls']:>7.1f}"
            f"{row['spproxy_429']:>13}{row['elapsed_s']:>10.2f}"
            f"{row['client_latency_ms']['max'] or 0:>9.0f}{row['lwa_exchanges']:>10}"
            f"{row['rdt_mints']:>10}   {seen}"
        )
    shared = r["redis_3"]
    down = [s for s in shared["shared_state"] if not s.get("up") or s.get("unavailable_calls")]
    fewer = shared["amazon_429"] <= r["memory_1"]["amazon_429"]
    once = shared["lwa_exchanges"] == 1 and shared["rdt_mints"] == 1
    print(
        f"  Goal, 3 replicas on Redis: no more Amazon 429s than one replica "
        f"({'met' if fewer else 'NOT met'}), one LWA exchange and one RDT mint "
        f"({'met' if once else 'NOT met'}); Redis "
        f"{'up throughout on every replica' if not down else f'DOWN on some: {down}'}."
    )
    lat = r["latency"]
    print()
    print(
        f"Redis on the hot path: sequential requests (concurrency 1, {lat['memory']['n']} per "
        "spproxy, blocks of 100 alternating), getMarketplaceParticipations, pacing on"
    )
    print(f"  {'':10}{'p50 us':>9}{'p99 us':>9}{'mean us':>9}   spproxy CPU us/request")
    for name in ("memory", "redis"):
        row = lat[name]
        print(
            f"  {name:10}{row['p50_us']:>9.0f}{row['p99_us']:>9.0f}{row['mean_us']:>9.0f}"
            f"   {row['spproxy_cpu_us_per_request']:>6.0f}"
        )
    added = lat["redis_added"]
    script = lat["bucket_script_from_bench_us"]
    p50_goal = "met" if lat["goal_added_p50_met"] else "NOT met"
    print(
        f"  Redis adds p50 {added['p50_us']:.0f} us, p99 {added['p99_us']:.0f} us (goal p50 <= "
        f"{lat['goal_added_p50_ms'] * 1000:.0f} us: {p50_goal}); round trips per request "
        f"{lat['redis_round_trips_per_request']:g} "
        f"({', '.join(f'{k}: {v}' for k, v in lat['redis_round_trips'].items())} in a monitored "
        f"block; goal 1: {'met' if lat['goal_one_round_trip_met'] else 'NOT met'}), "
        f"{lat['redis_commands_run_by_scripts_per_request']:g} commands run by scripts"
    )
    print(
        f"  for scale: the bucket script from the bench (redis-py asyncio) p50 {script['p50']:.0f} "
        f"us, p99 {script['p99']:.0f} us; PING (redis-py, synchronous) p50 "
        f"{r['redis']['ping_us']['p50']:.0f} us"
    )
    thr = r["throughput"]
    print()
    print(
        f"Throughput: real `spproxy serve --workers N` on Redis (pacing on, a plan nothing "
        f"reaches), {thr['concurrency']} in flight from {thr['load_processes']} load process(es),"
        f" {thr['rounds_per_serve']} rounds of {thr['round_s']:g} s each, ABBA"
    )
    print(
        f"  {'':12}{'req/s':>8}   rounds{'':22}CPU us/request (spproxy / Redis / emulator / "
        "load), cores busy"
    )
    for name in ("workers_1", "workers_2"):
        row = thr[name]
        cpu, busy = row["cpu_us_per_request"], row["cores_busy"]
        rounds = " ".join(f"{x:.0f}" for x in row["rps_rounds"])
        parts = ("spproxy", "redis", "emulator", "load")
        print(
            f"  {name.replace('_', ' '):12}{row['rps']:>8.0f}   {rounds:28}"
            + " / ".join(f"{cpu.get(k, 0):.0f}" for k in parts)
            + "   "
            + " / ".join(f"{busy.get(k, 0):.2f}" for k in parts)
        )
    print(
        f"  ratio workers 2 / 1: {thr['ratio_workers_2_over_1']:.3f} (the load generator, the "
        "emulator, Redis and the workers share the cores; load average at the phase's end "
        f"{' '.join(f'{x:g}' for x in r['load_average_end'])})"
    )


SATURATION_TARGETS = {
    "direct": "direct (no hop)",
    "nginx": "nginx proxy_pass",
    "bare": "bare aiohttp",
    "bare_uvloop": "bare, uvloop",
    "spproxy_info": "spproxy info",
    "spproxy_warning": "spproxy warning",
    "spproxy_info_uvloop": "spproxy info, uvloop",
    "spproxy_warning_uvloop": "spproxy warn., uvloop",
}


def print_saturation(s: Message) -> None:
    print()
    print(
        f"Saturation: wrk {s['wrk']} ({s['connections']} connections, {s['wrk_threads']} "
        f"thread(s)) against a static nginx {s['nginx']} upstream; {s['repetitions']} "
        f"alternating rounds of {s['round_s']:g} s per target, medians; p50@c1: one connection, "
        f"{s['p50_c1_run_s']:g} s. spproxy: `serve`, pacing off, stderr to /dev/null (info: the "
        "access log on, as shipped). Load average "
        f"{' '.join(f'{x:g}' for x in s['load_average_start'])} at the start, "
        f"{' '.join(f'{x:g}' for x in s['load_average_end'])} at the end."
    )
    print(
        f"  {'':22}{'req/s':>8}{'CPU us/req':>11}{'(user+sys)':>11}{'p50 us':>8}{'p99 us':>8}"
        f"{'p50@c1':>8}{'/bare':>7}{'/nginx':>7}{'CPU/bare':>9}   req/s rounds"
    )
    for name, label in SATURATION_TARGETS.items():
        row = s["targets"].get(name)
        if row is None:
            continue
        rounds = " ".join(f"{x}" for x in row["rps_rounds"])
        split = f"({row['user_us_per_request']:.0f}+{row['system_us_per_request']:.0f})"
        print(
            f"  {label:22}{row['rps']:>8.0f}{row['cpu_us_per_request']:>11.0f}"
            f"{split:>11}{row['p50_us']:>8.0f}{row['p99_us']:>8.0f}{row['p50_c1_us']:>8.0f}"
            f"{row['ratio_to_bare']:>7.2f}{row['ratio_to_nginx']:>7.2f}"
            f"{row['cpu_ratio_to_bare']:>9.2f}   {rounds}"
        )
    failures = {
        name: (row["non_2xx"], row["socket_errors"])
        for name, row in s["targets"].items()
        if row["non_2xx"] or row["socket_errors"]
    }
    if failures:
        print(f"  NON-2XX ANSWERS, SOCKET ERRORS: {failures}")
    if s["uvloop"] is None:
        print("  uvloop is not installed: no uvloop rows (pip install 'spproxy[speed]')")
    goal = s["goal"]
    print(
        f"  Goal (issue 15): spproxy as shipped (info, asyncio's loop) at least bare's req/s "
        f"({goal['spproxy_info_over_bare']:.2f}) for at most its CPU per request "
        f"({goal['cpu_per_request_over_bare']:.2f}): {'met' if goal['met'] else 'NOT met'}"
    )
    if "profile" in s:
        print_profile(s["profile"])


def print_profile(profiles: Message) -> None:
    for name, p in profiles.items():
        label = SATURATION_TARGETS.get(name, name)
        print()
        if "skipped" in p:
            print(f"Profile of {label}: skipped: {p['skipped']}")
            continue
        print(
            f"Profile of {label} (asyncio), py-spy under the same load for {p['seconds']:g} s "
            f"({p['rps_while_sampled']:.0f} req/s while sampled), {p['samples']} samples at "
            f"{p['rate_hz']} Hz; % of samples"
        )
        shares = ", ".join(f"{e['package']} {e['percent']:g}%" for e in p["own_by_package"][:12])
        print(f"  own samples by package: {shares}")
        shown = len(p["own"]) if name == "spproxy_info" else 10  # bare's: for comparison
        for kind in ("own", "cumulative"):
            print(f"  by {kind} samples:")
            for entry in p[kind][:shown]:
                print(f"  {entry['percent']:>6.1f}%  {entry['function']}")
