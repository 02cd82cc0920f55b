//! The library's `tracing` events, for Python's `logging`. Events can come from any thread (rayon
//! workers); they are queued here and handed to the `tailwatch` logger by the thread that holds
//! the GIL (`job::run`), never from a worker thread.

use std::collections::VecDeque;
use std::fmt::{Debug, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use tracing::field::{Field, Visit};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber, span};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// The most verbose level queued: 0 nothing, 1 error, 2 warn, 3 info, 4 debug, 5 trace. Set from
/// the `tailwatch` logger's effective level when a call starts, so that nothing below it is
/// even formatted.
static VERBOSITY: AtomicU8 = AtomicU8::new(2);

/// Queued events beyond this are dropped (and counted): a debug run of a huge model must not
/// grow memory without bound while Python is not draining.
const MAX_QUEUED: usize = 10_000;

static QUEUE: Mutex<VecDeque<Record>> = Mutex::new(VecDeque::new());
static DROPPED: AtomicUsize = AtomicUsize::new(0);

/// One event: its Python logging level and its text.
pub struct Record {
    pub level: u8,
    pub message: String,
}

fn rank(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

fn python_level(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 40,
        Level::WARN => 30,
        Level::INFO => 20,
        Level::DEBUG => 10,
        Level::TRACE => 5,
    }
}

/// Queue events down to Python logging level `level` (`logger.getEffectiveLevel()`).
pub fn set_python_level(level: i64) {
    let v = match level {
        l if l <= 5 => 5,
        l if l <= 10 => 4,
        l if l <= 20 => 3,
        l if l <= 30 => 2,
        l if l <= 40 => 1,
        _ => 0,
    };
    VERBOSITY.store(v, Ordering::Relaxed);
}

/// Take every queued event, and the number dropped since the last call.
pub fn drain() -> (Vec<Record>, usize) {
    let records = QUEUE
        .lock()
        .map(|mut q| q.drain(..).collect())
        .unwrap_or_default();
    (records, DROPPED.swap(0, Ordering::Relaxed))
}

/// Install the queue as the process's `tracing` subscriber (once; a second call does nothing).
pub fn install() {
    let subscriber = tracing_subscriber::registry().with(QueueLayer);
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// An event's message and its other fields as ` key=value`.
#[derive(Default)]
struct Fields {
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.rest, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.rest, " {}={value:?}", field.name());
        }
    }
}

/// The fields of a span, kept to prefix the events inside it (`layer{id=3 name=fc1}: ...`).
struct SpanFields(String);

struct QueueLayer;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for QueueLayer {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        // The level can change between calls: ask `enabled` every time.
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        rank(metadata.level()) <= VERBOSITY.load(Ordering::Relaxed)
    }

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let mut f = Fields::default();
        attrs.record(&mut f);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut()
                .insert(SpanFields(f.rest.trim_start().to_string()));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut f = Fields::default();
        event.record(&mut f);
        let mut message = String::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                message.push_str(span.name());
                if let Some(SpanFields(t)) = span.extensions().get::<SpanFields>()
                    && !t.is_empty()
                {
                    let _ = write!(message, "{{{t}}}");
                }
                message.push_str(": ");
            }
        }
        message.push_str(&f.message);
        message.push_str(&f.rest);
        let record = Record {
            level: python_level(event.metadata().level()),
            message,
        };
        if let Ok(mut q) = QUEUE.lock()
            && q.len() < MAX_QUEUED
        {
            q.push_back(record);
            return;
        }
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
}
