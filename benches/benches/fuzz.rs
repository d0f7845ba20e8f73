//! The fuzz driver: generated and mutated inputs into every parser of untrusted input, counting
//! panics, slow inputs and throughput. A bench-style binary, not part of the test time:
//!
//! ```sh
//! cargo bench -p benches --bench fuzz -- --inputs 10000000 --seed 1
//! ```
//!
//! Targets: the subscription payload (Lambda event envelope, gzip, JSON) through the ETL
//! transform; the syslog and Windows (XML, text) parsers; the filter-pattern parser and
//! evaluator; the agent-config loader (schema, model, rules); the stack-definition loader; the
//! scenario loader. Seeds are the repository's own fixtures and corpora. Each input is a seed
//! mutated (bytes flipped, inserted, deleted, duplicated, spliced with another seed, cut) or
//! random bytes. A panic is caught, counted, and its input written to
//! `target/fuzz-crashes/<target>-<n>.bin` to become a regression test; an input slower than
//! [`SLOW`] is reported. Peak memory is the process's high-water mark (`VmHWM`).
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    reason = "a bench binary reports on stdout and stops loudly on a broken seed"
)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use benches::{peak_memory_kib, repo_root};
use pipeline::agent_config::AgentConfig;
use pipeline::etl::{RowBuffer, TransformOptions, decode, parse, transform_gzip};
use pipeline::filter_pattern::FilterPattern;
use pipeline::time_format::IsoMillis;
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};

/// An input slower than this is reported as a possible hang.
const SLOW: Duration = Duration::from_secs(1);

/// A number below `n` (0 when `n` is 0).
fn below(rng: &mut StdRng, n: usize) -> usize {
    if n == 0 { 0 } else { rng.random_range(0..n) }
}

/// One parser and its seeds.
struct Target {
    name: &'static str,
    seeds: Vec<Vec<u8>>,
    run: fn(&[u8]),
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn files(dir: &str, extension: &str) -> Vec<Vec<u8>> {
    let dir = repo_root().join(dir);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    paths.sort();
    paths.iter().map(|p| read(p)).collect()
}

fn lines(file: &str, take: usize) -> Vec<Vec<u8>> {
    String::from_utf8_lossy(&read(&repo_root().join(file)))
        .lines()
        .take(take)
        .map(|l| l.as_bytes().to_vec())
        .collect()
}

fn text(input: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(input)
}

fn etl_payload(input: &[u8]) {
    let mut scratch = Vec::new();
    let mut rows = RowBuffer::default();
    let options = TransformOptions::default();
    // The JSON inside the gzip, and the raw bytes as if they were the gzip.
    let _ = transform_gzip(
        &decode::gzip(input),
        &options,
        IsoMillis::now(),
        &mut scratch,
        &mut rows,
    );
    let _ = transform_gzip(input, &options, IsoMillis::now(), &mut scratch, &mut rows);
    let _ = decode::gzip_from_lambda_event_bytes(input);
}

fn log_lines(input: &[u8]) {
    let line = text(input);
    let _ = parse::parse_message(&line);
    let _ = parse::syslog::parse(&line);
    let _ = parse::windows::parse_xml(&line);
    let _ = parse::windows::parse_text(&line);
}

fn filter_patterns(input: &[u8]) {
    let text = text(input);
    let (pattern, event) = text
        .split_once('\n')
        .unwrap_or((&text, "ERROR 1.2.3.4 {\"a\":1}"));
    if let Ok(pattern) = FilterPattern::parse(pattern) {
        let _ = pattern.matches(event);
        let _ = pattern.extract_fields(event);
    }
}

fn agent_configs(input: &[u8]) {
    let _ = AgentConfig::parse(&text(input));
}

fn stack_definitions(input: &[u8]) {
    if let Ok(definition) = stack::StackDefinition::from_toml(&text(input), Path::new("fuzz.toml"))
    {
        let _ = definition.issues();
    }
}

fn scenarios(input: &[u8]) {
    if let Ok(scenario) =
        harness::scenario::Scenario::from_toml(&text(input), Path::new("fuzz.toml"))
    {
        let _ = scenario.issues(Path::new("."));
    }
}

fn targets() -> Vec<Target> {
    let mut patterns: Vec<Vec<u8>> = Vec::new();
    let table = String::from_utf8_lossy(&read(
        &repo_root().join("fixtures/aws-conformance/filter-patterns.toml"),
    ))
    .into_owned();
    let mut pattern = None;
    for line in table.lines() {
        if let Some(p) = line.strip_prefix("pattern = ") {
            pattern = serde_json::from_str::<String>(p).ok();
        }
        if let Some(e) = line.strip_prefix("event = ")
            && let Some(p) = pattern.take()
        {
            let event = serde_json::from_str::<String>(e).unwrap_or_default();
            patterns.push(format!("{p}\n{event}").into_bytes());
        }
    }
    let mut log_seeds = lines("fixtures/loghub/Linux_2k.log", 200);
    log_seeds.extend(lines("fixtures/loghub/OpenSSH_2k.log", 200));
    log_seeds.extend(lines("fixtures/loghub/Windows_2k.log", 200));
    log_seeds.extend(
        benches::windows_xml_lines(50)
            .into_iter()
            .map(String::into_bytes),
    );
    let mut agent = files("fixtures/agent-config", "json");
    agent.extend(files("scenarios/agent-config", "json"));
    let mut stack_seeds = vec![read(&repo_root().join("pipeline.toml"))];
    stack_seeds.extend(
        files("scenarios", "toml")
            .into_iter()
            .filter(|t| t.starts_with(b"[") || t.starts_with(b"#")),
    );
    vec![
        Target {
            name: "subscription payload + ETL transform",
            seeds: files("fixtures/cloudwatch-logs/payloads", "json"),
            run: etl_payload,
        },
        Target {
            name: "syslog and Windows parsers",
            seeds: log_seeds,
            run: log_lines,
        },
        Target {
            name: "filter-pattern parser and evaluator",
            seeds: patterns,
            run: filter_patterns,
        },
        Target {
            name: "agent-config loader",
            seeds: agent,
            run: agent_configs,
        },
        Target {
            name: "stack-definition loader",
            seeds: stack_seeds,
            run: stack_definitions,
        },
        Target {
            name: "scenario loader",
            seeds: files("scenarios", "toml"),
            run: scenarios,
        },
    ]
}

/// A seed mutated, or random bytes.
fn mutate(rng: &mut StdRng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut input = seeds[below(rng, seeds.len())].clone();
    for _ in 0..=below(rng, 4) {
        let len = input.len();
        let at = below(rng, len + 1);
        match below(rng, 8) {
            0 if len > 0 => input[at.min(len - 1)] ^= 1 << below(rng, 8),
            1 => input.insert(at, rng.random::<u8>()),
            2 if len > 0 => {
                let end = (at + below(rng, 16)).min(len);
                input.drain(at..end);
            }
            3 if len > 0 => {
                let end = (at + below(rng, 64)).min(len);
                let copy = input[at..end].to_vec();
                input.splice(at..at, copy);
            }
            4 => {
                let other = &seeds[below(rng, seeds.len())];
                let from = below(rng, other.len() + 1);
                input.truncate(at);
                input.extend_from_slice(&other[from..]);
            }
            5 => input.truncate(at),
            6 => {
                let special: &[&[u8]] = &[
                    b"\"",
                    b"{",
                    b"}",
                    b"[",
                    b"]",
                    b"%",
                    b"!{",
                    b"\\",
                    b"\0",
                    b"\xff",
                    "\u{e9}".as_bytes(),
                    b"999999999999999999999",
                    b"-1",
                    b"\n",
                ];
                input.splice(at..at, special[below(rng, special.len())].iter().copied());
            }
            _ => {
                input = (0..below(rng, 256)).map(|_| rng.random::<u8>()).collect();
            }
        }
    }
    input
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str, default: u64| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let total = value("--inputs", 1_000_000);
    let seed = value("--seed", 1);
    let crashes = repo_root().join("target/fuzz-crashes");
    let targets = targets();
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let per_target = total / targets.len() as u64;
    println!("fuzz: {per_target} inputs per target, seed {seed}");
    let started = Instant::now();
    let mut failed = false;
    for (index, target) in targets.iter().enumerate() {
        if target.seeds.is_empty() {
            std::panic::set_hook(default_hook);
            panic!("{}: no seeds", target.name);
        }
        let mut rng =
            StdRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (index as u64 + 1));
        let (mut panics, mut slow, mut slowest) = (0u64, 0u64, Duration::ZERO);
        let begin = Instant::now();
        for n in 0..per_target {
            let input = mutate(&mut rng, &target.seeds);
            let one = Instant::now();
            let outcome = catch_unwind(AssertUnwindSafe(|| (target.run)(&input)));
            let took = one.elapsed();
            slowest = slowest.max(took);
            if took > SLOW {
                slow += 1;
            }
            if outcome.is_err() {
                panics += 1;
                let _ = std::fs::create_dir_all(&crashes);
                let _ = std::fs::write(crashes.join(format!("{index}-{n}.bin")), &input);
            }
        }
        let seconds = begin.elapsed().as_secs_f64();
        println!(
            "{:<40} {per_target:>10} inputs {:>10.0}/s  panics {panics}  slow {slow}  slowest {:.1} ms",
            target.name,
            per_target as f64 / seconds.max(1e-9),
            slowest.as_secs_f64() * 1e3
        );
        failed |= panics > 0 || slow > 0;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "total: {} inputs in {seconds:.1} s ({:.0}/s); peak memory {} MiB{}",
        per_target * targets.len() as u64,
        (per_target * targets.len() as u64) as f64 / seconds.max(1e-9),
        peak_memory_kib().map_or_else(|| "?".to_owned(), |k| (k / 1024).to_string()),
        if failed {
            "; FAILURES above (inputs in target/fuzz-crashes/)"
        } else {
            ""
        }
    );
    if failed {
        std::process::exit(1);
    }
}
