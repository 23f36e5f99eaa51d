//! What a run is doing, while it does it, on standard error (standard output carries the report): on a terminal
//! a spinner with the current step or check and its latest detail (downloading Swagger UI, a docker build line);
//! elsewhere (CI logs, pipes) plain lines. Off unless the command line turns it on, so the library and the tests
//! stay quiet.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Off,
    /// One line per event.
    Lines,
    /// A spinner redrawn in place, with finished items printed above it.
    Spinner,
}

struct State {
    mode: Mode,
    bar: Option<ProgressBar>,
    item: Option<(String, Instant)>,
}

static STATE: Mutex<State> = Mutex::new(State { mode: Mode::Off, bar: None, item: None });

fn state() -> std::sync::MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Turns progress on: a spinner when standard error is a terminal, plain lines otherwise.
pub fn enable() {
    use std::io::IsTerminal as _;
    let mode = if std::io::stderr().is_terminal() { Mode::Spinner } else { Mode::Lines };
    state().mode = mode;
}

/// Starts an item (`[3/26] step batch.job-queue`), ending the previous one if it was not ended.
pub fn begin(label: impl Into<String>) {
    let label = label.into();
    let mut state = state();
    match state.mode {
        Mode::Off => return,
        Mode::Lines => eprintln!("{label} ..."),
        Mode::Spinner => {
            let bar = state.bar.get_or_insert_with(|| {
                let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {prefix} {wide_msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.enable_steady_tick(Duration::from_millis(100));
                bar
            });
            bar.set_prefix(label.clone());
            bar.set_message("");
        }
    }
    state.item = Some((label, Instant::now()));
}

/// What the current item is doing now (`downloading Swagger UI from PyPI`).
pub fn detail(text: impl AsRef<str>) {
    let state = state();
    match (state.mode, &state.bar) {
        (Mode::Off, _) => {}
        (Mode::Spinner, Some(bar)) => bar.set_message(text.as_ref().to_owned()),
        _ => eprintln!("  {}", text.as_ref()),
    }
}

/// Output of a tool the item runs (docker's build lines): printed above the spinner, and shown as its detail.
pub fn output(line: impl AsRef<str>) {
    let line = line.as_ref();
    let state = state();
    match (state.mode, &state.bar) {
        (Mode::Spinner, Some(bar)) => {
            bar.println(format!("    {line}"));
            bar.set_message(line.to_owned());
        }
        // Without progress the tool's output is still shown, as it always was.
        _ => eprintln!("    {line}"),
    }
}

/// Ends the current item with its result (`passed`, `failed`, ...).
pub fn end(result: &str) {
    let mut state = state();
    let Some((label, started)) = state.item.take() else { return };
    let line = format!("{label}: {result} ({:.0} ms)", started.elapsed().as_secs_f64() * 1e3);
    match (state.mode, &state.bar) {
        (Mode::Off, _) => {}
        (Mode::Spinner, Some(bar)) => bar.println(line),
        _ => eprintln!("{line}"),
    }
}

/// Removes the spinner (before the report is printed).
pub fn finish() {
    let mut state = state();
    if let Some(bar) = state.bar.take() {
        bar.finish_and_clear();
    }
    state.item = None;
}

/// Turns progress off again (after `up`'s start: later changes print their own summary).
pub fn disable() {
    finish();
    state().mode = Mode::Off;
}

/// A writer for log lines that keeps the spinner intact (log lines are printed above it).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bar = state().bar.clone();
        match bar {
            Some(bar) => {
                let text = String::from_utf8_lossy(buf);
                bar.suspend(|| std::io::stderr().write_all(text.as_bytes()))?;
                Ok(buf.len())
            }
            None => std::io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}
