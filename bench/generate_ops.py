"""Three years of platform activity for the operations benchmark, generated in SQL.

Every statement is one `INSERT … SELECT … FROM generate_series(…)` run through Django's
connection. Every attribute is a pseudo-random function of the row's series number
(PostgreSQL's `hashint8extended(n, SEED + k)`, mapped to [0, 1)), so the data is the same on
every run and a child row can recompute its parent's attributes (an enterprise's region, a
worker's registration time) without reading the parent back. Ids are given explicitly from
the table's current maximum, and the identity sequences are moved past them at the end.

Regions: Sichuan's real counties and townships from the Region table (load_regions). Counties
of 成都市 count three times in the county draw; townships are drawn uniformly. Each record's
centre is the serving centre of its region (its county's for a township), and each centre gets
one generated staff user (`bench_staff_<centre id>`) who acts for it.

Timestamps lie in [today − 3 years, now] (Asia/Shanghai) and keep their order (registered
before verified, published before a case opens, opened before assigned, docked, escalated and
closed, sent before read); anything that would fall after now is clamped to now.

Sizes at scale 1 (each multiplied by --scale, at least 1):
S&T workers 1,000,000 (users + TalentProfile, 60 % verified with verified_at); enterprises
200,000 (Organisation + user); citizens 10,000,000 (users + CitizenProfile); teams 20,000 (three
members); demands 300,000 (5 % draft, 5 % submitted, 5 % returned, 5 % withdrawn, 35 %
published, 45 % closed; 15 % of the published were returned once first; 6 % flagged as
boilerplate and 3 % as duplicates of an earlier demand) with their DemandEvents; a case for
every closed demand and 80 % of the published ones, with events (opened, assigned: within 8
hours for 90 %, 3–5 days late for 10 %, none for the 5 % of open cases nobody owns; escalated,
closed), outcome, evidence, contract amount and rating; two docking requests per case past
diagnosis; service plans for 10 % of verified workers with three actions each; 20,000 popsci
articles (80 % published); 10,000 campaigns (90 % sent) with 500 deliveries each (40 % opened,
half of those read to the end); 5,000,000 read events (3 % flagged as bot-like); integrity
flags as the gaming scan writes them, on the flagged demands and the accounts behind the
bot-like reads (30 % confirmed, 10 % cleared); 500,000 quiz before/after pairs; 10,000
activities with 50 signups each (70 % checked in).
"""

# The SQL below is assembled from this module's own expression helpers and table names; every
# value from outside (sizes, times, region codes) is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

SEED = 20261207_000

BASE_SIZES = {
    "workers": 1_000_000,
    "enterprises": 200_000,
    "citizens": 10_000_000,
    "teams": 20_000,
    "demands": 300_000,
    "articles": 20_000,
    "campaigns": 10_000,
    "reads": 5_000_000,
    "quiz_pairs": 500_000,
    "activities": 10_000,
}
DELIVERIES_PER_CAMPAIGN = 500
SIGNUPS_PER_ACTIVITY = 50
CITIZEN_BATCH = 1_000_000

# The tables the generator fills, in an order that a TRUNCATE … CASCADE of them accepts.
GENERATED_TABLES = (
    "integrity_flag",
    "popsci_activitysignup",
    "popsci_activity",
    "popsci_quizattempt",
    "popsci_readevent",
    "popsci_delivery",
    "popsci_campaign",
    "popsci_contentversion",
    "popsci_article",
    "plans_planaction",
    "plans_serviceplan",
    "cases_dockingrequest",
    "cases_caseevent",
    "cases_case",
    "demands_demandevent",
    "demands_demand",
    "talent_team_members",
    "talent_team",
    "talent_talentprofile",
    "popsci_citizenprofile",
    "accounts_user",
    "accounts_organisation",
)

PROVINCE = "510000"
CHENGDU = "510100"


def u(expr: str, k: int) -> str:
    """SQL for a uniform number in [0, 1) drawn from the integer `expr` and stream `k`."""
    return f"((hashint8extended(({expr})::bigint, {SEED + k}) & 2147483647)::float8 / 2147483648.0)"


def pick(expr: str, k: int, n: str) -> str:
    """SQL for an integer in [0, n) drawn from `expr` and stream `k`."""
    return f"floor({u(expr, k)} * ({n}))::int"


def region(expr: str, k: int, township_share: float) -> str:
    """SQL for a region code: a township with probability `township_share`, else a county
    from the weighted county list."""
    return (
        f"(CASE WHEN {u(expr, k + 1000)} < {township_share} "
        f"THEN (%(twp)s::bigint[])[1 + {pick(expr, k + 2000, 'cardinality(%(twp)s::bigint[])')}] "
        f"ELSE (%(cty)s::bigint[])[1 + {pick(expr, k + 3000, 'cardinality(%(cty)s::bigint[])')}] "
        "END)::text"
    )


def at(frac: str) -> str:
    """SQL for the moment `frac` ∈ [0, 1) of the way from the start to now."""
    return f"(%(t0)s::timestamptz + ({frac}) * %(span)s * interval '1 second')"


def clamp(ts: str) -> str:
    return f"LEAST({ts}, %(now)s::timestamptz)"


def frac_since(ts: str) -> str:
    """SQL for the share of the window still ahead of `ts` (0 at now)."""
    return f"GREATEST(0, extract(epoch FROM %(now)s::timestamptz - ({ts})) / %(span)s)"


# Attribute expressions shared by a parent and its children.
def org_region(g: str) -> str:
    return region(g, 10, 0.3)


def org_frac(g: str) -> str:
    return f"sqrt({u(g, 11)})"  # registrations grow over the three years


def worker_region(g: str) -> str:
    return region(g, 20, 0.3)


def worker_frac(g: str) -> str:
    return f"sqrt({u(g, 21)})"


def worker_verified(g: str) -> str:
    return f"({u(g, 22)} < 0.6)"


def citizen_region(g: str) -> str:
    return region(g, 30, 0.9)


def citizen_frac(g: str) -> str:
    return f"sqrt({u(g, 31)})"


def published_article(g: str, k: int) -> str:
    """SQL for the series number of a published article (those with g % 5 <> 0)."""
    raw = f"(1 + {pick(g, k, '%(articles)s')})"
    return f"(CASE WHEN mod({raw}, 5) = 0 THEN {raw} - 1 ELSE {raw} END)"


@dataclass
class Plan:
    scale: float
    sizes: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sizes = {k: max(1, round(v * self.scale)) for k, v in BASE_SIZES.items()}
        # A campaign or activity never reaches more citizens than there are.
        self.sizes["deliveries_per_campaign"] = min(DELIVERIES_PER_CAMPAIGN, self.sizes["citizens"])
        self.sizes["signups_per_activity"] = min(SIGNUPS_PER_ACTIVITY, self.sizes["citizens"])
        self.sizes["quiz_pairs"] = min(self.sizes["quiz_pairs"], self.sizes["citizens"])
        if self.sizes["articles"] < 2:
            self.sizes["articles"] = 2  # at least one published article


def _max_id(cur: Any, table: str) -> int:
    cur.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
    return int(cur.fetchone()[0])


def _fix_sequence(cur: Any, table: str) -> None:
    cur.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
        f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
    )


def generate(
    *,
    scale: float,
    now: datetime,
    fresh: bool,
    check_constraints: bool,
    jobs: int = 1,
    say: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Generate the activity; returns the number of rows generated per table.

    `fresh` empties the generated tables first (the benchmark database only); with
    `check_constraints` off, foreign-key triggers are off for the inserts (the references are
    valid by construction), otherwise deferred foreign keys are checked at the end. With
    `jobs` > 1 (and the checks off) the citizens, the bulk of the rows, are written by
    `jobs` − 1 other connections in batches while this one writes everything else: no
    statement reads what another is writing, every reference being computed from ids."""
    from django.db import connection

    from kejiyun.popsci.targeting.selectors import current_consent_version

    if say is None:

        def say(line: str) -> None:
            print(line, flush=True)

    plan = Plan(scale)
    z = plan.sizes
    t0 = (now - timedelta(days=3 * 365)).replace(hour=0, minute=0, second=0, microsecond=0)
    p: dict[str, Any] = {
        "t0": t0,
        "now": now,
        "span": (now - t0).total_seconds(),
        "consent": current_consent_version(),
        **z,
    }
    counts: dict[str, int] = {}

    with connection.cursor() as cur:
        if fresh:
            cur.execute("TRUNCATE " + ", ".join(GENERATED_TABLES) + " CASCADE")
        if not check_constraints:
            cur.execute("SET session_replication_role = replica")
        else:
            cur.execute("SET CONSTRAINTS ALL DEFERRED")
        cur.execute(
            "SELECT array_agg(code::bigint ORDER BY code) FROM regions_region "
            "WHERE level = 'township' AND path LIKE %s",
            [f"{PROVINCE}/%"],
        )
        p["twp"] = cur.fetchone()[0]
        cur.execute(
            "SELECT array_agg(code::bigint ORDER BY code) FROM regions_region, "
            "generate_series(1, CASE WHEN path LIKE %s THEN 3 ELSE 1 END) "
            "WHERE level = 'county' AND path LIKE %s",
            [f"{PROVINCE}/{CHENGDU}/%", f"{PROVINCE}/%"],
        )
        p["cty"] = cur.fetchone()[0]
        if not p["twp"] or not p["cty"]:
            raise SystemExit("no Sichuan regions loaded: run manage.py load_regions")

        lock = threading.Lock()

        def run(label: str, table: str, sql: str, on: Any = None, **extra: Any) -> int:
            started = time.perf_counter()
            target = on or cur
            target.execute(sql, {**p, **extra})
            n = int(target.rowcount)
            with lock:
                counts[table] = counts.get(table, 0) + n
                say(f"  {label:<34} {n:>12,} rows  {time.perf_counter() - started:7.1f} s")
            return n

        # --- Staff: one per service centre, and the serving centre of every region -------
        u0 = _max_id(cur, "accounts_user")
        run(
            "staff users (one per centre)",
            "accounts_user",
            """
            INSERT INTO accounts_user (id, password, is_superuser, username, first_name,
                last_name, email, is_staff, is_active, date_joined, display_name, role,
                mobile_sealed, centre_id, region_id)
            SELECT %(u0)s + row_number() OVER (ORDER BY c.id), '!', false,
                   'bench_staff_' || c.id || '_' || %(u0)s, '', '', '', false, true,
                   %(t0)s, '工作人员', 'staff', '', c.id, c.region_id
            FROM regions_servicecentre c JOIN regions_region r ON r.code = c.region_id
            WHERE r.path LIKE %(prov)s
            """,
            u0=u0,
            prov=f"{PROVINCE}/%",
        )
        cur.execute("DROP TABLE IF EXISTS pg_temp.bench_serving")
        cur.execute(
            """
            CREATE TEMP TABLE bench_serving AS
            SELECT r.code, s.centre_id, s.staff_id
            FROM regions_region r
            CROSS JOIN LATERAL (
                SELECT c.id AS centre_id, st.id AS staff_id
                FROM regions_servicecentre c
                JOIN regions_region cr ON cr.code = c.region_id
                JOIN accounts_user st ON st.centre_id = c.id AND st.id > %(u0)s
                WHERE r.path LIKE cr.path || '%%'
                ORDER BY length(cr.path) DESC LIMIT 1) s
            WHERE r.path LIKE %(prov)s
            """,
            {"u0": u0, "prov": f"{PROVINCE}/%"},
        )
        cur.execute("ALTER TABLE bench_serving ADD PRIMARY KEY (code)")
        cur.execute("ANALYZE bench_serving")

        # --- Enterprises: organisations and their users -----------------------------------
        o0 = _max_id(cur, "accounts_organisation")
        p["o0"] = o0
        run(
            "enterprises (organisations)",
            "accounts_organisation",
            f"""
            INSERT INTO accounts_organisation (id, kind, name, uscc, industry, description,
                address, created_at, region_id)
            SELECT %(o0)s + g, 'enterprise', '企业' || g, 'B' || lpad((%(o0)s + g)::text, 17, '0'),
                   '', '', '', {at(org_frac("g"))}, {org_region("g")}
            FROM generate_series(1, %(enterprises)s::bigint) g
            """,
        )
        eu0 = _max_id(cur, "accounts_user")
        p["eu0"] = eu0
        run(
            "enterprise users",
            "accounts_user",
            f"""
            INSERT INTO accounts_user (id, password, is_superuser, username, first_name,
                last_name, email, is_staff, is_active, date_joined, display_name, role,
                mobile_sealed, region_id, organisation_id)
            SELECT %(eu0)s + g, '!', false, 'b' || (%(eu0)s + g), '', '', '', false, true,
                   {at(org_frac("g"))}, '', 'enterprise', '', {org_region("g")}, %(o0)s + g
            FROM generate_series(1, %(enterprises)s::bigint) g
            """,
        )

        # --- S&T workers: users and talent profiles ---------------------------------------
        wu0 = _max_id(cur, "accounts_user")
        p["wu0"] = wu0
        run(
            "worker users",
            "accounts_user",
            f"""
            INSERT INTO accounts_user (id, password, is_superuser, username, first_name,
                last_name, email, is_staff, is_active, date_joined, display_name, role,
                mobile_sealed, region_id)
            SELECT %(wu0)s + g, '!', false, 'b' || (%(wu0)s + g), '', '', '', false, true,
                   {at(worker_frac("g"))}, '', 'worker', '', {worker_region("g")}
            FROM generate_series(1, %(workers)s::bigint) g
            """,
        )
        p0 = _max_id(cur, "talent_talentprofile")
        p["p0"] = p0
        joined = at(worker_frac("g"))
        verified_at = clamp(f"{joined} + {u('g', 23)} * interval '30 days'")
        run(
            "talent profiles",
            "talent_talentprofile",
            f"""
            INSERT INTO talent_talentprofile (id, user_id, employer, title, fields, keywords,
                capability, verified, created_at, region_id, id_number_sealed, id_number_hash,
                capacity, service_modes, verified_at, verified_by_id, version,
                directory_consent)
            SELECT %(p0)s + g, %(wu0)s + g, '', '', '', '', '', {worker_verified("g")},
                   {joined}, {worker_region("g")}, '', '', 3, 1 + mod(g, 31)::smallint,
                   CASE WHEN {worker_verified("g")} THEN {verified_at} END, NULL, 1, true
            FROM generate_series(1, %(workers)s::bigint) g
            """,
        )

        # --- Citizens: users and profiles, in batches ------------------------------------
        cu0 = _max_id(cur, "accounts_user")
        c0 = _max_id(cur, "popsci_citizenprofile")
        p["cu0"], p["c0"] = cu0, c0
        citizen_users = f"""
            INSERT INTO accounts_user (id, password, is_superuser, username, first_name,
                last_name, email, is_staff, is_active, date_joined, display_name, role,
                mobile_sealed, region_id)
            SELECT %(cu0)s + g, '!', false, 'b' || (%(cu0)s + g), '', '', '', false, true,
                   {at(citizen_frac("g"))}, '', 'citizen', '', {citizen_region("g")}
            FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) g
            """
        citizen_profiles = f"""
            INSERT INTO popsci_citizenprofile (id, user_id, region_id, region_code,
                occupation, age_band, interests, interest_bits, crops, targeting_consent,
                consent_version, updated_at, created_at)
            SELECT %(c0)s + g, %(cu0)s + g, r.code, r.code,
                   CASE WHEN o < 0.40 THEN 'farmer' WHEN o < 0.58 THEN 'enterprise_worker'
                        WHEN o < 0.73 THEN 'elderly' WHEN o < 0.85 THEN 'student'
                        WHEN o < 0.95 THEN 'other' WHEN o < 0.98 THEN 'left_behind_child'
                        ELSE 'cadre' END,
                   CASE WHEN a < 0.12 THEN 'under_14' WHEN a < 0.18 THEN '14_17'
                        WHEN a < 0.43 THEN '18_35' WHEN a < 0.78 THEN '36_59'
                        ELSE '60_plus' END,
                   '[]'::jsonb, 0, '', {u("g", 34)} < 0.7,
                   CASE WHEN {u("g", 34)} < 0.7 THEN %(consent)s ELSE '' END,
                   {at(citizen_frac("g"))}, {at(citizen_frac("g"))}
            FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) g
            CROSS JOIN LATERAL (SELECT {citizen_region("g")} AS code) r
            CROSS JOIN LATERAL (SELECT {u("g", 32)} AS o, {u("g", 33)} AS a) x
            """

        def citizen_batch(lo: int, hi: int, on: Any) -> None:
            run(f"citizen users {lo:,}–{hi:,}", "accounts_user", citizen_users, on, lo=lo, hi=hi)
            run(
                f"citizen profiles {lo:,}–{hi:,}",
                "popsci_citizenprofile",
                citizen_profiles,
                on,
                lo=lo,
                hi=hi,
            )

        def citizen_batch_apart(lo: int, hi: int) -> None:
            """One batch on this thread's own connection (FK triggers off, as on the main
            one); the rows refer to nothing the main connection is still writing."""
            from django.db import connection as own

            try:
                with own.cursor() as c:
                    c.execute("SET session_replication_role = replica")
                    citizen_batch(lo, hi, c)
            finally:
                own.close()

        batches = [
            (lo, min(z["citizens"], lo + CITIZEN_BATCH - 1))
            for lo in range(1, z["citizens"] + 1, CITIZEN_BATCH)
        ]
        pool = None
        pending: list[Future[None]] = []
        if jobs > 1 and not check_constraints:
            # Citizens go to other connections while this one writes everything else.
            pool = ThreadPoolExecutor(max_workers=jobs - 1)
            pending = [pool.submit(citizen_batch_apart, lo, hi) for lo, hi in batches]
        else:
            for lo, hi in batches:
                citizen_batch(lo, hi, cur)

        # --- Teams and studios ------------------------------------------------------------
        t0_id = _max_id(cur, "talent_team")
        p["tm0"] = t0_id
        lead = f"(1 + {pick('g', 130, '%(workers)s')})"
        run(
            "teams and studios",
            "talent_team",
            f"""
            INSERT INTO talent_team (id, kind, name, fields, keywords, description,
                recognition_level, created_at, host_organisation_id, lead_id, region_id)
            SELECT %(tm0)s + g, CASE WHEN {u("g", 131)} < 0.3 THEN 'studio' ELSE 'team' END,
                   '团队' || g, '', '', '', '',
                   {at(f"{worker_frac('l')} + {u('g', 132)} * (1 - {worker_frac('l')})")},
                   NULL, %(p0)s + l, {worker_region("l")}
            FROM generate_series(1, %(teams)s::bigint) g
            CROSS JOIN LATERAL (SELECT {lead} AS l) x
            """,
        )
        run(
            "team members",
            "talent_team_members",
            f"""
            INSERT INTO talent_team_members (team_id, talentprofile_id)
            SELECT %(tm0)s + g, %(p0)s + 1 + mod({lead} - 1 + j * 7919, %(workers)s)
            FROM generate_series(1, %(teams)s::bigint) g, generate_series(0, 2) j
            ON CONFLICT DO NOTHING
            """,
        )

        # --- Demands and their events -----------------------------------------------------
        d0 = _max_id(cur, "demands_demand")
        p["d0"] = d0
        org = f"(1 + {pick('g', 40, '%(enterprises)s')})"
        run(
            "demands",
            "demands_demand",
            f"""
            INSERT INTO demands_demand (id, title, description, category, industry, status,
                created_at, organisation_id, region_id, budget, confidentiality, created_by_id,
                current_state, deadline, duplicate_of_id, problem, published_at, return_reasons,
                review_flags, reviewed_by_id, source, submitted_at, target_indicators, version)
            SELECT %(d0)s + g, '需求' || g, '', (ARRAY['problem', 'talent', 'equipment',
                       'training', 'result'])[1 + {pick("g", 49, "5")}],
                   '', st.status, c.created, %(o0)s + o.o, o.reg, '', 'public', %(eu0)s + o.o,
                   '', NULL,
                   CASE WHEN dup THEN %(d0)s + 1 + {pick("g", 48, "g - 1")} END,
                   '',
                   CASE WHEN st.status IN ('published', 'closed') THEN pb.published END,
                   CASE WHEN st.status = 'returned' THEN '信息不完整，请补充技术指标' ELSE '' END,
                   CASE WHEN dup THEN jsonb_build_array('疑似重复：与需求 #' ||
                            (%(d0)s + 1 + {pick("g", 48, "g - 1")}) || ' 相似度 0.93')
                        WHEN {u("g", 46)} < 0.06 THEN '["套话比例 72%%"]'::jsonb
                        ELSE '[]'::jsonb END,
                   CASE WHEN st.status IN ('published', 'closed', 'returned')
                        THEN s.staff_id END,
                   CASE WHEN {u("g", 47)} < 0.2 THEN 'paper' ELSE 'online' END,
                   CASE WHEN st.status <> 'draft' THEN sb.submitted END,
                   '', 1
            FROM generate_series(1, %(demands)s::bigint) g
            CROSS JOIN LATERAL (SELECT {org} AS o) o0
            CROSS JOIN LATERAL (SELECT o0.o, {org_region("o0.o")} AS reg,
                                       {org_frac("o0.o")} AS f) o
            JOIN bench_serving s ON s.code = o.reg
            CROSS JOIN LATERAL (SELECT CASE
                WHEN {u("g", 42)} < 0.05 THEN 'draft' WHEN {u("g", 42)} < 0.10 THEN 'submitted'
                WHEN {u("g", 42)} < 0.15 THEN 'returned' WHEN {u("g", 42)} < 0.20 THEN 'withdrawn'
                WHEN {u("g", 42)} < 0.55 THEN 'published' ELSE 'closed' END AS status,
                g > 1 AND {u("g", 45)} < 0.03 AS dup) st
            CROSS JOIN LATERAL (SELECT
                {at(f"o.f + {u('g', 41)} * (1 - o.f)")} AS created) c
            CROSS JOIN LATERAL (SELECT
                {clamp(f"c.created + {u('g', 44)} * interval '2 days'")} AS submitted) sb
            CROSS JOIN LATERAL (SELECT {
                clamp(
                    f"sb.submitted + CASE WHEN {u('g', 43)} < 0.15 "
                    f"THEN interval '2 days' + {u('g', 50)} * interval '2 days' "
                    f"ELSE {u('g', 50)} * interval '3 days' END"
                )
            } AS published) pb
            """,
        )
        # Returned once before publication: the stream-43 draw of published/closed ones.
        returned_once = f"{u('d.id - %(d0)s', 43)} < 0.15"
        demand_range = "d.id > %(d0)s"
        run(
            "demand events: submitted",
            "demands_demandevent",
            f"""
            INSERT INTO demands_demandevent (from_status, to_status, automatic, reason,
                created_at, actor_id, demand_id)
            SELECT 'draft', 'submitted', false,
                   coalesce((SELECT string_agg(f, '；')
                             FROM jsonb_array_elements_text(d.review_flags) f), ''),
                   d.submitted_at, d.created_by_id, d.id
            FROM demands_demand d WHERE {demand_range} AND d.status <> 'draft'
            """,
        )
        run(
            "demand events: returned",
            "demands_demandevent",
            f"""
            INSERT INTO demands_demandevent (from_status, to_status, automatic, reason,
                created_at, actor_id, demand_id)
            SELECT 'submitted', 'returned', false, '信息不完整，请补充技术指标',
                   {clamp("d.submitted_at + interval '1 day'")}, d.reviewed_by_id, d.id
            FROM demands_demand d
            WHERE {demand_range} AND (d.status = 'returned'
                OR (d.status IN ('published', 'closed') AND {returned_once}))
            """,
        )
        run(
            "demand events: resubmitted",
            "demands_demandevent",
            f"""
            INSERT INTO demands_demandevent (from_status, to_status, automatic, reason,
                created_at, actor_id, demand_id)
            SELECT 'returned', 'submitted', false, '',
                   {clamp("d.submitted_at + interval '2 days'")}, d.created_by_id, d.id
            FROM demands_demand d
            WHERE {demand_range} AND d.status IN ('published', 'closed') AND {returned_once}
            """,
        )
        run(
            "demand events: published",
            "demands_demandevent",
            f"""
            INSERT INTO demands_demandevent (from_status, to_status, automatic, reason,
                created_at, actor_id, demand_id)
            SELECT 'submitted', 'published', false, '', d.published_at, d.reviewed_by_id, d.id
            FROM demands_demand d
            WHERE {demand_range} AND d.status IN ('published', 'closed')
            """,
        )
        run(
            "demand events: withdrawn",
            "demands_demandevent",
            f"""
            INSERT INTO demands_demandevent (from_status, to_status, automatic, reason,
                created_at, actor_id, demand_id)
            SELECT 'submitted', 'withdrawn', false, '企业撤回',
                   {clamp("d.submitted_at + interval '1 day'")}, d.created_by_id, d.id
            FROM demands_demand d WHERE {demand_range} AND d.status = 'withdrawn'
            """,
        )

        # --- Cases (一单一策) -------------------------------------------------------------
        ca0 = _max_id(cur, "cases_case")
        p["ca0"] = ca0
        g = "(d.id - %(d0)s)"
        closed = "d.status = 'closed'"
        run(
            "cases",
            "cases_case",
            f"""
            INSERT INTO cases_case (id, step, step_started_at, due_at, paused_at, pause_reason,
                escalations, escalated_at, outcome, outcome_reason, contract_number,
                contract_amount, evidence, evidence_name, evidence_type, evidence_sha256,
                outcome_recorded_at, confirmed_at, rating, rating_comment, recognition_level,
                version, opened_at, closed_at, centre_id, demand_id, owner_id, region_id)
            SELECT %(ca0)s + {g}, x.step, x.step_started,
                   CASE WHEN NOT {closed} THEN x.step_started + interval '5 days' END,
                   NULL, '', x.esc,
                   CASE WHEN x.esc > 0 THEN {
                clamp(
                    "x.opened + LEAST(interval '6 days', "
                    "coalesce((x.closed - x.opened) / 2, interval '6 days'))"
                )
            } END,
                   x.outcome,
                   CASE WHEN x.outcome = 'not_solved' THEN '未找到合适的技术方案' ELSE '' END,
                   CASE WHEN x.outcome = 'solved' THEN 'HT' || d.id ELSE '' END,
                   CASE WHEN x.outcome = 'solved' AND {u(g, 56)} < 0.7
                        THEN round((10000 + {u(g, 57)} ^ 3 * 2000000)::numeric, 2) END,
                   CASE WHEN x.outcome = 'solved' AND {u(g, 58)} < 0.8
                        THEN 'cases/evidence/' || d.id || '.pdf' ELSE '' END,
                   CASE WHEN x.outcome = 'solved' AND {u(g, 58)} < 0.8
                        THEN '验收报告.pdf' ELSE '' END,
                   CASE WHEN x.outcome = 'solved' AND {u(g, 58)} < 0.8
                        THEN 'application/pdf' ELSE '' END,
                   CASE WHEN x.outcome = 'solved' AND {u(g, 58)} < 0.8
                        THEN md5('evidence' || d.id) || md5('sha256' || d.id) ELSE '' END,
                   x.closed, x.closed,
                   CASE WHEN {closed} AND {u(g, 59)} < 0.6
                        THEN (1 + floor(sqrt({u(g, 60)}) * 5))::smallint END,
                   '', '', 1, x.opened, x.closed, s.centre_id, d.id,
                   CASE WHEN NOT {closed} AND {u(g, 61)} < 0.05 THEN NULL ELSE s.staff_id END,
                   d.region_id
            FROM demands_demand d
            JOIN bench_serving s ON s.code = d.region_id
            CROSS JOIN LATERAL (SELECT
                {clamp(f"d.published_at + {u(g, 51)} * interval '2 days'")} AS opened) o
            CROSS JOIN LATERAL (SELECT o.opened,
                CASE WHEN {closed} THEN {
                clamp(f"o.opened + interval '3 days' + {u(g, 52)} * interval '60 days'")
            } END
                    AS closed,
                CASE WHEN {closed} THEN 'closed' ELSE (ARRAY['intake', 'diagnosis', 'matching',
                    'docking', 'agreement', 'delivery', 'acceptance'])[1 + {pick(g, 54, "7")}]
                    END AS step,
                CASE WHEN NOT {closed} THEN '' WHEN {u(g, 53)} < 0.7 THEN 'solved'
                     ELSE 'not_solved' END AS outcome,
                (CASE WHEN {u(g, 55)} < 0.8 THEN 0 WHEN {u(g, 55)} < 0.95 THEN 1 ELSE 2 END)
                    ::smallint AS esc) x0
            CROSS JOIN LATERAL (SELECT x0.*, CASE WHEN {closed} THEN x0.closed
                ELSE {clamp(f"o.opened + {u(g, 62)} * (%(now)s::timestamptz - o.opened)")}
                END AS step_started) x
            WHERE {demand_range} AND d.status IN ('published', 'closed')
                AND ({closed} OR {u(g, 69)} < 0.8)
            """,
        )
        case_range = "c.id > %(ca0)s"
        run(
            "case events: opened",
            "cases_caseevent",
            f"""
            INSERT INTO cases_caseevent (kind, from_step, to_step, reason, created_at, actor_id,
                case_id)
            SELECT 'opened', '', 'intake', '', c.opened_at, NULL, c.id
            FROM cases_case c WHERE {case_range}
            """,
        )
        run(
            "case events: assigned",
            "cases_caseevent",
            f"""
            INSERT INTO cases_caseevent (kind, from_step, to_step, reason, created_at, actor_id,
                case_id)
            SELECT 'assigned', 'intake', 'intake', '',
                   LEAST(c.opened_at + CASE WHEN {u("c.id - %(ca0)s", 68)} < 0.1
                       THEN interval '3 days' + {u("c.id - %(ca0)s", 63)} * interval '2 days'
                       ELSE {u("c.id - %(ca0)s", 63)} * interval '8 hours' END,
                       c.closed_at, %(now)s::timestamptz),
                   c.owner_id, c.id
            FROM cases_case c WHERE {case_range} AND c.owner_id IS NOT NULL
            """,
        )
        run(
            "case events: escalated",
            "cases_caseevent",
            f"""
            INSERT INTO cases_caseevent (kind, from_step, to_step, reason, created_at, actor_id,
                case_id)
            SELECT 'escalated', c.step, c.step, '超过办理时限',
                   {clamp("c.escalated_at + (i - 1) * interval '1 hour'")}, NULL, c.id
            FROM cases_case c, generate_series(1, c.escalations) i
            WHERE {case_range} AND c.escalations > 0
            """,
        )
        run(
            "case events: closed",
            "cases_caseevent",
            f"""
            INSERT INTO cases_caseevent (kind, from_step, to_step, reason, created_at, actor_id,
                case_id)
            SELECT 'transition', 'acceptance', 'closed', '', c.closed_at, c.owner_id, c.id
            FROM cases_case c WHERE {case_range} AND c.step = 'closed'
            """,
        )
        run(
            "demand events: closed",
            "demands_demandevent",
            """
            INSERT INTO demands_demandevent (from_status, to_status, automatic, reason,
                created_at, actor_id, demand_id)
            SELECT 'published', 'closed', true, '', c.closed_at, NULL, c.demand_id
            FROM cases_case c WHERE c.id > %(ca0)s AND c.step = 'closed'
            """,
        )
        k = "(c.id * 2 + j)"
        run(
            "docking requests",
            "cases_dockingrequest",
            f"""
            INSERT INTO cases_dockingrequest (message, status, decline_reason, created_at,
                responded_at, case_id, expert_id, sent_by_id, decided_at, decided_by_id, origin,
                refusal_reason)
            SELECT '', x.status,
                   CASE WHEN x.status = 'declined' THEN '时间冲突，无法承接' ELSE '' END,
                   x.sent,
                   CASE WHEN x.status IN ('accepted', 'declined')
                        THEN LEAST(x.sent + {u(k, 66)} * interval '3 days', c.closed_at,
                                   %(now)s::timestamptz) END,
                   c.id, %(p0)s + 1 + {pick(k, 64, "%(workers)s")}, c.owner_id, NULL, NULL,
                   'staff', ''
            FROM cases_case c, generate_series(1, 2) j
            CROSS JOIN LATERAL (SELECT
                CASE WHEN c.step = 'closed' THEN
                    CASE WHEN {u(k, 65)} < 0.5 THEN 'accepted' WHEN {u(k, 65)} < 0.7
                         THEN 'declined' ELSE 'closed' END
                ELSE CASE WHEN {u(k, 65)} < 0.3 THEN 'sent' WHEN {u(k, 65)} < 0.7
                         THEN 'accepted' ELSE 'declined' END END AS status,
                {
                clamp(
                    f"c.opened_at + interval '1 day' + {u(k, 67)} * "
                    "(coalesce(c.closed_at, %(now)s::timestamptz) - c.opened_at) / 2"
                )
            }
                    AS sent) x
            WHERE {case_range} AND c.step NOT IN ('intake', 'diagnosis')
            ON CONFLICT DO NOTHING
            """,
        )

        # --- Service plans (一人一策) and their actions -----------------------------------
        pl0 = _max_id(cur, "plans_serviceplan")
        p["pl0"] = pl0
        wg = "(t.id - %(p0)s)"
        run(
            "service plans",
            "plans_serviceplan",
            f"""
            INSERT INTO plans_serviceplan (id, version, created_at, updated_at, centre_id,
                owner_id, profile_id)
            SELECT %(pl0)s + {wg}, 1, x.created, x.created, s.centre_id, s.staff_id, t.id
            FROM talent_talentprofile t
            JOIN bench_serving s ON s.code = t.region_id
            CROSS JOIN LATERAL (SELECT
                {clamp(f"t.verified_at + {u(wg, 70)} * interval '30 days'")} AS created) x
            WHERE t.id > %(p0)s AND t.verified AND {u(wg, 71)} < 0.1
            """,
        )
        pk = "(pl.id * 3 + j)"
        run(
            "plan actions",
            "plans_planaction",
            f"""
            INSERT INTO plans_planaction (title, due_on, done_at, created_at, done_by_id,
                need_id, plan_id)
            SELECT '服务事项' || j, ((pl.created_at + j * interval '30 days')
                       AT TIME ZONE 'Asia/Shanghai')::date,
                   CASE WHEN {u(pk, 72)} < 0.5
                        THEN {clamp(f"pl.created_at + {u(pk, 73)} * interval '60 days'")} END,
                   pl.created_at,
                   CASE WHEN {u(pk, 72)} < 0.5 THEN pl.owner_id END, NULL, pl.id
            FROM plans_serviceplan pl, generate_series(1, 3) j
            WHERE pl.id > %(pl0)s
            """,
        )

        # --- Popular science ---------------------------------------------------------------
        a0 = _max_id(cur, "popsci_article")
        p["a0"] = a0
        run(
            "popsci articles",
            "popsci_article",
            f"""
            INSERT INTO popsci_article (id, title, summary, body, topic, status, published_at,
                region_id, author_id, centre_id, created_at, image, kind, poster, review_note,
                reviewer_id, seasons, segments, version, video)
            SELECT %(a0)s + g, '科普' || g, '', '',
                   (ARRAY['agriculture', 'disaster', 'flood', 'landslide', 'earthquake',
                          'fire', 'health', 'ecology', 'technology', 'anti_fraud'])
                       [1 + {pick("g", 82, "10")}],
                   CASE WHEN mod(g, 5) <> 0 THEN 'published' WHEN mod(g, 10) = 0 THEN 'draft'
                        ELSE 'in_review' END,
                   CASE WHEN mod(g, 5) <> 0 THEN x.t END,
                   r.code, s.staff_id, s.centre_id, x.t - interval '2 days', '',
                   CASE WHEN {u("g", 83)} < 0.2 THEN 'video' ELSE 'article' END, '', '', NULL,
                   '[]'::jsonb, '[]'::jsonb, 1, ''
            FROM generate_series(1, %(articles)s::bigint) g
            CROSS JOIN LATERAL (SELECT {region("g", 80, 0)} AS code) r
            JOIN bench_serving s ON s.code = r.code
            CROSS JOIN LATERAL (SELECT {at(f"sqrt({u('g', 81)})")} AS t) x
            """,
        )
        run(
            "popsci content versions (first)",
            "popsci_contentversion",
            """
            INSERT INTO popsci_contentversion (number, title, body, snapshot, published_at,
                article_id, reviewer_id)
            SELECT 1, a.title, '', '{}'::jsonb, a.published_at, a.id, NULL
            FROM popsci_article a WHERE a.id > %(a0)s AND a.status = 'published'
            """,
        )
        cp0 = _max_id(cur, "popsci_campaign")
        p["cp0"] = cp0
        run(
            "campaigns",
            "popsci_campaign",
            f"""
            INSERT INTO popsci_campaign (id, title, channel, segments, age_bands, interests,
                status, scheduled_at, sent_at, audience_size, created_at, article_id, centre_id,
                created_by_id, region_id)
            SELECT %(cp0)s + g, '推送' || g, 'inapp', '[]'::jsonb, '[]'::jsonb, '[]'::jsonb,
                   x.status, x.ts, CASE WHEN x.status = 'sent' THEN x.ts END,
                   CASE WHEN x.status = 'sent' THEN %(deliveries_per_campaign)s ELSE 0 END,
                   x.ts - interval '1 day', a.id, a.centre_id, s.staff_id, a.region_id
            FROM generate_series(1, %(campaigns)s::bigint) g
            JOIN popsci_article a ON a.id = %(a0)s + {published_article("g", 90)}
            JOIN bench_serving s ON s.code = a.region_id
            CROSS JOIN LATERAL (SELECT
                CASE WHEN {u("g", 91)} < 0.9 THEN 'sent' ELSE 'scheduled' END AS status,
                {clamp(f"a.published_at + {u('g', 92)} * interval '30 days'")} AS ts) x
            """,
        )
        dk = "((c.id - %(cp0)s) * %(deliveries_per_campaign)s + k)"
        run(
            "campaign deliveries",
            "popsci_delivery",
            f"""
            INSERT INTO popsci_delivery (created_at, opened_at, read_to_end_at, campaign_id,
                citizen_id)
            SELECT c.sent_at, o.opened,
                   CASE WHEN o.opened IS NOT NULL AND {u(dk, 95)} < 0.5
                        THEN {clamp("o.opened + interval '4 minutes'")} END,
                   c.id, %(c0)s + 1 + mod((c.id - %(cp0)s) * 104729 + k, %(citizens)s)
            FROM popsci_campaign c, generate_series(1, %(deliveries_per_campaign)s) k
            CROSS JOIN LATERAL (SELECT CASE WHEN {u(dk, 93)} < 0.4 THEN
                {clamp(f"c.sent_at + {u(dk, 94)} * interval '2 days'")} END AS opened) o
            WHERE c.id > %(cp0)s AND c.status = 'sent'
            """,
        )
        run(
            "read events",
            "popsci_readevent",
            f"""
            INSERT INTO popsci_readevent (device, opened_at, finished_at, flagged, flag_reason,
                article_id, campaign_id, user_id)
            SELECT CASE WHEN b.bot THEN 'bot-' || b.key ELSE '' END, x.opened,
                   CASE WHEN b.bot THEN x.opened + interval '2 seconds'
                        WHEN {u("g", 102)} < 0.6 THEN {clamp("x.opened + interval '3 minutes'")}
                        END,
                   b.bot, CASE WHEN b.bot THEN '阅读时长过短；同一设备大量阅读' ELSE '' END,
                   a.id, NULL, %(cu0)s + 1 + {pick("b.key", 103, "%(citizens)s")}
            FROM generate_series(1, %(reads)s::bigint) g
            CROSS JOIN LATERAL (SELECT {u("g / 5", 104)} < 0.03 AS bot) b0
            CROSS JOIN LATERAL (SELECT b0.bot,
                CASE WHEN b0.bot THEN -(g / 5) ELSE g END AS key) b
            JOIN popsci_article a ON a.id = %(a0)s + {published_article("b.key", 100)}
            CROSS JOIN LATERAL (SELECT {
                clamp(
                    f"a.published_at + {u('b.key', 101)} * (%(now)s::timestamptz - a.published_at)"
                    " + CASE WHEN b.bot THEN mod(g, 5) * interval '1 minute' ELSE interval '0' END"
                )
            } AS opened) x
            """,
        )
        # Integrity flags, as the scan writes them: the demands the review flagged (a third of
        # the flags confirmed, a tenth cleared) and the accounts behind bot-like reads, each on
        # its first flagged read's day, for that article's centre.
        decided = (
            "CASE WHEN {v} < 0.3 THEN 'confirmed' WHEN {v} < 0.4 THEN 'cleared' ELSE 'open' END"
        )
        run(
            "integrity flags: demands",
            "integrity_flag",
            f"""
            INSERT INTO integrity_flag (kind, subject_type, subject_id, centre_id, day, reason,
                confidence, evidence, status, decision_note, version, created_at, updated_at)
            SELECT 'duplicate_demand', 'demand', d.id, s.centre_id,
                   (d.submitted_at AT TIME ZONE 'Asia/Shanghai')::date,
                   '与另一单位的需求相似', 0.9, '{{}}'::jsonb,
                   {decided.format(v=u("d.id", 121))}, '', 1, d.submitted_at, d.submitted_at
            FROM demands_demand d
            JOIN bench_serving s ON s.code = d.region_id
            WHERE d.id > %(d0)s AND d.review_flags <> '[]'::jsonb AND d.submitted_at IS NOT NULL
            """,
        )
        run(
            "integrity flags: bot readers",
            "integrity_flag",
            f"""
            INSERT INTO integrity_flag (kind, subject_type, subject_id, centre_id, day, reason,
                confidence, evidence, status, decision_note, version, created_at, updated_at)
            SELECT 'scripted_reading', 'account', f.user_id, f.centre_id,
                   (f.first AT TIME ZONE 'Asia/Shanghai')::date, '疑似脚本刷阅读', 0.8,
                   '{{}}'::jsonb, {decided.format(v=u("f.user_id", 122))}, '', 1, f.first,
                   f.first
            FROM (
                SELECT r.user_id, min(r.opened_at) AS first,
                       (array_agg(coalesce(a.centre_id, s.centre_id)
                                  ORDER BY r.opened_at, r.id))[1] AS centre_id
                FROM popsci_readevent r
                JOIN popsci_article a ON a.id = r.article_id
                LEFT JOIN bench_serving s ON s.code = a.region_id
                WHERE r.flagged AND a.id > %(a0)s
                GROUP BY r.user_id
            ) f
            """,
        )
        run(
            "quiz attempts (before and after)",
            "popsci_quizattempt",
            f"""
            INSERT INTO popsci_quizattempt (phase, answers, correct, total, created_at,
                article_id, user_id)
            SELECT ph.phase, '[]'::jsonb,
                   CASE WHEN ph.phase = 'before' THEN {pick("g", 111, "4")}
                        ELSE 2 + {pick("g", 112, "4")} END,
                   5,
                   CASE WHEN ph.phase = 'before' THEN x.t
                        ELSE {clamp("x.t + interval '10 minutes'")} END,
                   a.id, %(cu0)s + g
            FROM generate_series(1, %(quiz_pairs)s::bigint) g
            JOIN popsci_article a ON a.id = %(a0)s + {published_article("g", 110)}
            CROSS JOIN LATERAL (SELECT
                a.published_at + {u("g", 113)} * (%(now)s::timestamptz - a.published_at) AS t) x
            CROSS JOIN (VALUES ('before'), ('after')) ph(phase)
            """,
        )
        ac0 = _max_id(cur, "popsci_activity")
        p["ac0"] = ac0
        run(
            "activities",
            "popsci_activity",
            f"""
            INSERT INTO popsci_activity (id, title, description, place, starts_at, ends_at,
                capacity, segments, resource, created_at, centre_id, region_id)
            SELECT %(ac0)s + g, '科普活动' || g, '', '', x.t, x.t + interval '2 hours', 100,
                   '[]'::jsonb, '', x.t - interval '14 days', s.centre_id, r.code
            FROM generate_series(1, %(activities)s::bigint) g
            CROSS JOIN LATERAL (SELECT {region("g", 120, 0)} AS code) r
            JOIN bench_serving s ON s.code = r.code
            CROSS JOIN LATERAL (SELECT {at(f"sqrt({u('g', 121)})")} AS t) x
            """,
        )
        sk = "((ac.id - %(ac0)s) * %(signups_per_activity)s + k)"
        run(
            "activity signups",
            "popsci_activitysignup",
            f"""
            INSERT INTO popsci_activitysignup (created_at, checked_in_at, rating, feedback,
                activity_id, checked_in_by_id, user_id)
            SELECT ac.starts_at - {u(sk, 122)} * interval '7 days', x.checked,
                   CASE WHEN x.checked IS NOT NULL AND {u(sk, 124)} < 0.3
                        THEN (3 + {pick(sk, 125, "3")})::smallint END,
                   '', ac.id, CASE WHEN x.checked IS NOT NULL THEN s.staff_id END,
                   %(cu0)s + 1 + mod((ac.id - %(ac0)s) * 7919 + k, %(citizens)s)
            FROM popsci_activity ac
            JOIN bench_serving s ON s.code = ac.region_id
            CROSS JOIN generate_series(1, %(signups_per_activity)s) k
            CROSS JOIN LATERAL (SELECT CASE WHEN ac.starts_at < %(now)s::timestamptz
                AND {u(sk, 123)} < 0.7 THEN {clamp("ac.starts_at + interval '10 minutes'")} END
                AS checked) x
            WHERE ac.id > %(ac0)s
            """,
        )

        if pool is not None:
            for future in pending:
                future.result()
            pool.shutdown()
        for table in GENERATED_TABLES:
            _fix_sequence(cur, table)
        if not check_constraints:
            cur.execute("SET session_replication_role = origin")
        else:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute("DROP TABLE IF EXISTS pg_temp.bench_serving")
    return counts
