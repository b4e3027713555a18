//! What a guest instance may touch: an empty WASI context (no preopened directories, no
//! environment, no arguments, no sockets, no name lookups), a memory cap, a CPU deadline,
//! and the world's own imports (`log` here, `dynamodb` through [`super::immediate`]'s view).
//!
//! Guest stdout/stderr are kept as a short tail per instance: a panicking Rust guest prints
//! its message there, and the host attaches it to the trap it reports.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::AsyncWrite;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder, Trap, UpdateDeadline};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::{self, wit};
use super::immediate::{self, DbImportView, DbView, GuestContext};
use super::{Runtime, EPOCH_TICK};

/// Bytes of guest output kept for error messages.
const OUTPUT_TAIL: usize = 2048;
/// Log lines one call may emit before the rest are counted instead of written.
const LOG_LINES_PER_CALL: u32 = 100;
/// Longest log message kept; the rest is cut.
const LOG_MESSAGE_BYTES: usize = 4096;

/// The state of one guest instance's store.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: MeteredLimits,
    output: GuestOutput,
    migration: Arc<str>,
    /// What the guest may reach through its imports.
    pub(crate) context: GuestContext,
    /// The item being processed, for log messages.
    pub(crate) item: String,
    log_lines: u32,
    /// The last message the guest logged during the current call: an AssemblyScript `abort`
    /// says why there before it traps.
    last_log: Option<String>,
    /// Time the current call spent blocked in immediate operations (the `dynamodb` import adds
    /// it through its view), and how much of it the deadline was extended by already: waiting
    /// on DynamoDB is not the guest's CPU.
    blocked: Duration,
    credited: Duration,
}

impl HostState {
    /// The tail of what the guest wrote to stdout/stderr, as text.
    pub(crate) fn output_tail(&self) -> String {
        self.output.tail()
    }

    /// Starts a new call: resets the per-call log budget.
    pub(crate) fn begin_call(&mut self, item: String) {
        self.item = item;
        self.log_lines = 0;
        self.last_log = None;
        self.blocked = Duration::ZERO;
        self.credited = Duration::ZERO;
    }

    /// At the deadline: extends it by the time spent blocked that was not credited yet, or
    /// ends the call.
    fn at_deadline(&mut self) -> wasmtime::Result<UpdateDeadline> {
        let owed = self.blocked.saturating_sub(self.credited);
        if owed.is_zero() {
            return Err(Trap::Interrupt.into());
        }
        self.credited = self.blocked;
        let ticks = (owed.as_millis() / EPOCH_TICK.as_millis()) as u64 + 1;
        Ok(UpdateDeadline::Continue(ticks))
    }

    /// The guest's share of a call that took `elapsed`: less the time blocked in immediate
    /// operations, as the deadline counts it.
    pub(crate) fn guest_time(&self, elapsed: Duration) -> Duration {
        elapsed.saturating_sub(self.blocked)
    }

    /// The size of the instance's largest linear memory so far (memories only grow).
    pub(crate) fn memory_bytes(&self) -> usize {
        self.limits.memory_bytes
    }

    /// The last message logged during the current call.
    pub(crate) fn last_log(&self) -> Option<&str> {
        self.last_log.as_deref()
    }

    /// Ends a call: reports log lines that were dropped.
    pub(crate) fn end_call(&mut self) {
        if self.log_lines > LOG_LINES_PER_CALL {
            tracing::warn!(
                target: "guest",
                migration = &*self.migration,
                item = %self.item,
                "{} more log lines from this item were dropped",
                self.log_lines - LOG_LINES_PER_CALL
            );
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl DbImportView for HostState {
    fn db(&mut self) -> DbView<'_> {
        DbView {
            context: &self.context,
            blocked: &mut self.blocked,
        }
    }
}

impl wit::Host for HostState {}

impl bindings::MigrationImports for HostState {
    fn log(&mut self, level: wit::Level, message: String) {
        self.log_lines += 1;
        if self.log_lines > LOG_LINES_PER_CALL {
            return;
        }
        let mut message = message;
        if message.len() > LOG_MESSAGE_BYTES {
            let mut cut = LOG_MESSAGE_BYTES;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        self.last_log = Some(message.clone());
        let (migration, item) = (&*self.migration, &self.item);
        match level {
            wit::Level::Trace => tracing::trace!(target: "guest", migration, item, "{message}"),
            wit::Level::Debug => tracing::debug!(target: "guest", migration, item, "{message}"),
            wit::Level::Info => tracing::info!(target: "guest", migration, item, "{message}"),
            wit::Level::Warn => tracing::warn!(target: "guest", migration, item, "{message}"),
            wit::Level::Error => tracing::error!(target: "guest", migration, item, "{message}"),
        }
    }
}

/// The linker with everything a migration may import.
pub(crate) fn linker(runtime: &Runtime) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = Linker::new(runtime.engine());
    // Rust's standard library for wasm32-wasip2 imports WASI interfaces; the context behind
    // them is empty, so they give access to nothing.
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    bindings::Migration::add_to_linker_imports::<HostState, HasSelf<HostState>>(
        &mut linker,
        |s| s,
    )?;
    wit::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
    immediate::add_to_linker(&mut linker)?;
    Ok(linker)
}

/// A fresh store for one instance of `migration`.
pub(crate) fn store(
    runtime: &Runtime,
    migration: Arc<str>,
    context: GuestContext,
) -> Store<HostState> {
    let output = GuestOutput::default();
    let wasi = WasiCtx::builder()
        .stdout(output.clone())
        .stderr(output.clone())
        .allow_ip_name_lookup(false)
        .allow_tcp(false)
        .allow_udp(false)
        .build();
    let limits = MeteredLimits {
        limits: StoreLimitsBuilder::new()
            .memory_size(runtime.limits().memory_bytes)
            .trap_on_grow_failure(true)
            .build(),
        memory_bytes: 0,
    };
    let state = HostState {
        wasi,
        table: ResourceTable::new(),
        limits,
        output,
        migration,
        context,
        item: String::new(),
        log_lines: 0,
        last_log: None,
        blocked: Duration::ZERO,
        credited: Duration::ZERO,
    };
    let mut store = Store::new(runtime.engine(), state);
    store.limiter(|state| &mut state.limits);
    store.epoch_deadline_callback(|mut store| store.data_mut().at_deadline());
    store
}

/// The store's limits (the memory cap), and the largest memory they let the instance grow to.
struct MeteredLimits {
    limits: StoreLimits,
    memory_bytes: usize,
}

impl ResourceLimiter for MeteredLimits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if allowed {
            self.memory_bytes = self.memory_bytes.max(desired);
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

/// Guest stdout/stderr: keeps the last [`OUTPUT_TAIL`] bytes, never fails a write (a full
/// pipe would make Rust's `eprintln!` panic inside the guest).
#[derive(Clone, Default)]
struct GuestOutput(Arc<Mutex<VecDeque<u8>>>);

impl GuestOutput {
    fn tail(&self) -> String {
        let bytes = self.0.lock().expect("output lock");
        String::from_utf8_lossy(&bytes.iter().copied().collect::<Vec<_>>()).into_owned()
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl AsyncWrite for GuestOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut tail = self.0.lock().expect("output lock");
        let keep = &buf[buf.len().saturating_sub(OUTPUT_TAIL)..];
        tail.extend(keep);
        let excess = tail.len().saturating_sub(OUTPUT_TAIL);
        tail.drain(..excess);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
