//! Running a library call off the interpreter: the call runs on a worker thread (which never
//! touches Python), while the calling thread, with the GIL released between polls, checks for
//! signals every `POLL`, hands queued log events to the `tailwatch` logger and reports progress.
//! On a KeyboardInterrupt (or any exception raised by a signal handler or the progress callback)
//! the library is told to stop through its `Cancel` flag before the next layer; the call waits
//! for that, and a second interrupt stops the waiting (the worker then finishes its current layer
//! in the background and its result is dropped).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tailwatch::analysis::Cancel;
use tailwatch::schema::ModelStatus;

use crate::errors::{internal_error, to_pyerr};
use crate::logs;

/// How often the calling thread wakes up to check for Ctrl-C, logs and progress.
const POLL: Duration = Duration::from_millis(50);

/// What the worker shares with the calling thread: the cancel flag and the progress counters.
#[derive(Default)]
pub struct Shared {
    pub cancel: Cancel,
    layers_done: AtomicUsize,
    layers_total: AtomicUsize,
    models_done: AtomicUsize,
    models_total: AtomicUsize,
    model_name: Mutex<String>,
}

impl Shared {
    /// `analysis::analyze_file_with_progress`'s callback: `done` of `total` layers finished
    /// (called from worker threads, possibly out of order).
    pub fn layer_done(&self, done: usize, total: usize) {
        self.layers_total.store(total, Ordering::Relaxed);
        self.layers_done.fetch_max(done, Ordering::Relaxed);
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            layers: (
                self.layers_done.load(Ordering::Relaxed),
                self.layers_total.load(Ordering::Relaxed),
            ),
            models: (
                self.models_done.load(Ordering::Relaxed),
                self.models_total.load(Ordering::Relaxed),
            ),
            model: self
                .model_name
                .lock()
                .map(|s| s.clone())
                .unwrap_or_default(),
        }
    }
}

/// A study's progress hooks, into the shared counters.
impl tailwatch::study::Progress for Shared {
    fn model_started(&self, index: usize, total: usize, name: &str) {
        if let Ok(mut n) = self.model_name.lock() {
            *n = name.to_string();
        }
        self.models_total.store(total, Ordering::Relaxed);
        self.models_done.store(index, Ordering::Relaxed);
        self.layers_done.store(0, Ordering::Relaxed);
        self.layers_total.store(0, Ordering::Relaxed);
    }
    fn layer_done(&self, done: usize, total: usize) {
        Shared::layer_done(self, done, total);
    }
    fn model_finished(&self, _name: &str, _status: ModelStatus) {
        self.models_done.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(Clone, Default, PartialEq)]
struct Snapshot {
    layers: (usize, usize),
    models: (usize, usize),
    model: String,
}

/// The Python side of a call: the `tailwatch` logger and an optional progress callback
/// `progress(kind, done, total, label)` with kind `"models"` or `"layers"`.
pub struct Hooks<'py> {
    pub logger: Option<Bound<'py, PyAny>>,
    pub progress: Option<Bound<'py, PyAny>>,
}

impl<'py> Hooks<'py> {
    fn flush_logs(&self) -> PyResult<()> {
        let (records, dropped) = logs::drain();
        let Some(logger) = &self.logger else {
            return Ok(());
        };
        for r in records {
            logger.call_method1("log", (r.level, "%s", r.message))?;
        }
        if dropped > 0 {
            let msg = format!("{dropped} log messages dropped (more than the queue holds)");
            logger.call_method1("log", (30, "%s", msg))?;
        }
        Ok(())
    }

    fn report(&self, shared: &Shared, last: &mut Snapshot) -> PyResult<()> {
        let Some(cb) = &self.progress else {
            return Ok(());
        };
        let now = shared.snapshot();
        if now == *last {
            return Ok(());
        }
        if now.models != last.models || now.model != last.model {
            cb.call1(("models", now.models.0, now.models.1, now.model.as_str()))?;
        }
        if now.layers != last.layers && now.layers.1 > 0 {
            cb.call1(("layers", now.layers.0, now.layers.1, now.model.as_str()))?;
        }
        *last = now;
        Ok(())
    }

    fn warn(&self, message: &str) {
        if let Some(logger) = &self.logger {
            let _ = logger.call_method1("log", (30, "%s", message));
        }
    }
}

type Outcome<T> = Result<tailwatch::Result<T>, Box<dyn Any + Send>>;

/// Run `work` on a worker thread under a fresh cancel flag; see the module documentation.
pub fn run<T, F>(py: Python<'_>, hooks: &Hooks<'_>, work: F) -> PyResult<T>
where
    T: Send + 'static,
    F: FnOnce(&Shared) -> tailwatch::Result<T> + Send + 'static,
{
    if let Some(logger) = &hooks.logger {
        logs::set_python_level(logger.call_method0("getEffectiveLevel")?.extract()?);
    }
    let shared = Arc::new(Shared::default());
    let (tx, rx) = mpsc::channel::<Outcome<T>>();
    let worker = Arc::clone(&shared);
    std::thread::Builder::new()
        .name("tailwatch".into())
        .spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| worker.cancel.scope(|| work(&worker))));
            let _ = tx.send(outcome);
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start a worker thread: {e}")))?;
    // A Receiver is not Sync; the mutex (never contended) lets the GIL-free poll borrow it.
    let rx = Mutex::new(rx);
    let mut last = Snapshot::default();
    loop {
        let received = py.detach(|| recv(&rx));
        let step = hooks
            .flush_logs()
            .and_then(|()| hooks.report(&shared, &mut last));
        match received {
            Ok(outcome) => {
                step?;
                return finish(py, outcome);
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(internal_error(
                    py,
                    "the worker thread ended without a result",
                ));
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        if let Err(e) = step.and_then(|()| py.check_signals()) {
            shared.cancel.cancel();
            hooks.warn(
                "interrupted: stopping before the next layer (interrupt again to stop waiting)",
            );
            wait_for_stop(py, hooks, &rx);
            return Err(e);
        }
    }
}

/// After a cancel: wait until the worker stops, still handing over its logs; a second interrupt
/// ends the wait.
fn wait_for_stop<T: Send>(py: Python<'_>, hooks: &Hooks<'_>, rx: &Mutex<Receiver<Outcome<T>>>) {
    loop {
        let received = py.detach(|| recv(rx));
        let _ = hooks.flush_logs();
        if !matches!(received, Err(RecvTimeoutError::Timeout)) || py.check_signals().is_err() {
            return;
        }
    }
}

/// Wait up to `POLL` for the worker's outcome.
fn recv<T>(rx: &Mutex<Receiver<T>>) -> Result<T, RecvTimeoutError> {
    rx.lock()
        .unwrap_or_else(|e| e.into_inner())
        .recv_timeout(POLL)
}

fn finish<T>(py: Python<'_>, outcome: Outcome<T>) -> PyResult<T> {
    match outcome {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_pyerr(py, &e)),
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown panic");
            Err(internal_error(py, &format!("panic: {what}")))
        }
    }
}
