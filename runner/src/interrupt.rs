//! Interruption of a run: which signals arrived, a way for blocking waits to notice
//! them, and a registration point for whatever must react at once.
//!
//! * [`Interrupt`] is the shared record of the signals a run received (a cheap,
//!   cloneable handle). Nothing in it is process-wide: a test or an embedding program
//!   makes its own and calls [`Interrupt::raise`]; the `notifier` binary connects one
//!   to the real signals with [`forward_signals`].
//! * [`Watch`] is one phase's view: "has a signal arrived since this phase began?". The
//!   experiment phase watches from the start of the command; the rollbacks watch from
//!   their own start, so the signal that interrupted the method does not also stop the
//!   rollbacks the `always` strategy plays, while a second one does.
//! * Blocking code never sleeps blind: [`Watch::wait`] sleeps until a deadline, a
//!   [`Flag`], or a signal, whichever comes first. The process provider polls its child
//!   with it; the during-method hypothesis waits between iterations with it.
//! * [`Interrupt::on_signal`] registers a hook called for every signal, on the thread
//!   that raised it (the signal thread of [`forward_signals`]), until its [`HookGuard`]
//!   is dropped. The HTTP provider uses it to stop waiting for a response; the python
//!   provider and the control hooks ([`crate::python`]) forward the signal to the Python
//!   helper, whose running call gets a `KeyboardInterrupt`. Hooks must be quick and must
//!   not block.
//!
//! Signals are never handled in a signal handler here: `signal-hook`'s iterator turns
//! them into messages for an ordinary thread, which raises them on the registered
//! [`Interrupt`]s. When none is registered, the signal acts as the system default
//! (the process terminates), as if no handler had been installed.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// A signal that interrupts a run, and what chaostoolkit does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// `SIGINT` (Ctrl-C): the run is interrupted (`KeyboardInterrupt` in the reference).
    Int,
    /// `SIGTERM`: the run is interrupted (`InterruptExecution` in the reference).
    Term,
    /// `SIGUSR1`: the run is interrupted, rollbacks follow the strategy
    /// (`SystemExit(20)` in the reference).
    Usr1,
    /// `SIGUSR2`: the run is interrupted and no rollback is ever played
    /// (`SystemExit(30)` in the reference).
    Usr2,
}

impl Signal {
    /// Every signal a run listens to.
    pub const ALL: [Signal; 4] = [Signal::Int, Signal::Term, Signal::Usr1, Signal::Usr2];

    /// `SIGINT`, `SIGTERM`, `SIGUSR1`, `SIGUSR2`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
            Signal::Usr1 => "SIGUSR1",
            Signal::Usr2 => "SIGUSR2",
        }
    }

    /// The signal number on this system.
    #[cfg(unix)]
    pub fn number(self) -> i32 {
        match self {
            Signal::Int => libc::SIGINT,
            Signal::Term => libc::SIGTERM,
            Signal::Usr1 => libc::SIGUSR1,
            Signal::Usr2 => libc::SIGUSR2,
        }
    }

    /// The signal with this number, if a run listens to it.
    #[cfg(unix)]
    pub fn from_number(number: i32) -> Option<Signal> {
        Signal::ALL.into_iter().find(|s| s.number() == number)
    }

    /// Whether the journal records it under `interruption` (chaostoolkit's
    /// `SignalRecorder` wraps SIGINT and SIGTERM only).
    pub fn is_recorded(self) -> bool {
        matches!(self, Signal::Int | Signal::Term)
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

type Hook = Arc<dyn Fn(Signal) + Send + Sync>;

/// More signals than this are counted but not kept one by one (a run only ever looks
/// at the first one of each phase).
const KEPT: usize = 64;

#[derive(Default)]
struct State {
    /// The first [`KEPT`] signals, in arrival order.
    signals: Vec<Signal>,
    /// How many arrived in all.
    count: usize,
    hooks: Vec<(u64, Hook)>,
    next_hook: u64,
}

/// The signals a run received, shared by every thread of the run.
///
/// Clone it freely: clones share the same record.
#[derive(Clone, Default)]
pub struct Interrupt {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for Interrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interrupt").field("signals", &self.signals()).finish()
    }
}

impl Interrupt {
    /// A record with no signal, connected to nothing.
    pub fn new() -> Interrupt {
        Interrupt::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records `signal` and calls the hooks, on this thread. This is what a real
    /// signal does through [`forward_signals`]; tests and embedding programs call it
    /// directly.
    pub fn raise(&self, signal: Signal) {
        let hooks: Vec<Hook> = {
            let mut state = self.lock();
            if state.signals.len() < KEPT {
                state.signals.push(signal);
            }
            state.count += 1;
            state.hooks.iter().map(|(_, h)| h.clone()).collect()
        };
        tracing::debug!("received {signal}");
        for hook in hooks {
            hook(signal);
        }
    }

    /// The signals received so far, in order (the first 64).
    pub fn signals(&self) -> Vec<Signal> {
        self.lock().signals.clone()
    }

    /// A view that notices every signal, including those received before this call.
    pub fn watch_from_start(&self) -> Watch {
        Watch { interrupt: self.clone(), from: 0 }
    }

    /// A view that notices only the signals received after this call.
    pub fn watch(&self) -> Watch {
        let from = self.lock().count;
        Watch { interrupt: self.clone(), from }
    }

    /// Calls `hook` for every signal raised from now until the guard is dropped.
    ///
    /// The hook runs on the raising thread (the signal thread for real signals), after
    /// the signal is recorded, so a [`Watch`] already sees it. It must not block.
    pub fn on_signal(&self, hook: impl Fn(Signal) + Send + Sync + 'static) -> HookGuard {
        let mut state = self.lock();
        let id = state.next_hook;
        state.next_hook += 1;
        state.hooks.push((id, Arc::new(hook)));
        HookGuard { interrupt: self.clone(), id }
    }

    /// The number of signals received so far.
    fn count(&self) -> usize {
        self.lock().count
    }

    /// The `n`th signal (0-based), or the last kept one beyond [`KEPT`].
    fn nth(&self, n: usize) -> Option<Signal> {
        let state = self.lock();
        if n >= state.count {
            return None;
        }
        state.signals.get(n).or(state.signals.last()).copied()
    }
}

/// Unregisters a hook of [`Interrupt::on_signal`] when dropped.
#[must_use = "the hook is unregistered as soon as the guard is dropped"]
pub struct HookGuard {
    interrupt: Interrupt,
    id: u64,
}

impl std::fmt::Debug for HookGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookGuard").field("id", &self.id).finish()
    }
}

impl Drop for HookGuard {
    fn drop(&mut self) {
        self.interrupt.lock().hooks.retain(|(id, _)| *id != self.id);
    }
}

/// One phase's view of an [`Interrupt`]: the signals received since the phase began.
#[derive(Debug, Clone)]
pub struct Watch {
    interrupt: Interrupt,
    from: usize,
}

impl Watch {
    /// The first signal received since this view began, if any.
    pub fn signal(&self) -> Option<Signal> {
        self.interrupt.nth(self.from)
    }

    /// `Err(signal)` once a signal has arrived.
    pub fn check(&self) -> Result<(), Signal> {
        self.signal().map_or(Ok(()), Err)
    }

    /// Ends this view: the first signal it saw, and a view of the signals that come
    /// after (taken at the same instant, so no signal falls between the two).
    pub fn split(&self) -> (Option<Signal>, Watch) {
        let now = self.interrupt.count();
        let seen = if now > self.from { self.interrupt.nth(self.from) } else { None };
        (seen, Watch { interrupt: self.interrupt.clone(), from: now })
    }

    /// The record this view reads.
    pub fn interrupt(&self) -> &Interrupt {
        &self.interrupt
    }

    /// Sleeps for `duration`, or less when `flag` is set (`Ok(true)`) or a signal
    /// arrives (`Err`). `Ok(false)`: the time ran out.
    pub fn wait(&self, flag: &Flag, duration: Duration) -> Result<bool, Signal> {
        let deadline = Instant::now().checked_add(duration);
        let wake = flag.clone();
        // Wakes the wait below; it takes the flag's lock, so it cannot slip in between
        // the check of the signals and the wait.
        let _hook = self.interrupt.on_signal(move |_| wake.notify());
        let (lock, condvar) = &*flag.inner;
        let mut set = lock.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            self.check()?;
            if *set {
                return Ok(true);
            }
            let remaining = match deadline {
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(r) if !r.is_zero() => r,
                    _ => return Ok(false),
                },
                None => Duration::from_secs(3600),
            };
            set = condvar.wait_timeout(set, remaining).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// Sleeps for `duration` unless a signal arrives (`Err`).
    pub fn sleep(&self, duration: Duration) -> Result<(), Signal> {
        self.wait(&Flag::new(), duration).map(|_| ())
    }
}

/// A one-way switch that wakes [`Watch::wait`]: Python's `threading.Event`.
#[derive(Debug, Clone, Default)]
pub struct Flag {
    inner: Arc<(Mutex<bool>, Condvar)>,
}

impl Flag {
    /// An unset flag.
    pub fn new() -> Flag {
        Flag::default()
    }

    /// Sets the flag and wakes every waiter.
    pub fn set(&self) {
        let (lock, condvar) = &*self.inner;
        *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
        condvar.notify_all();
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        *self.inner.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn notify(&self) {
        let (lock, condvar) = &*self.inner;
        let _held = lock.lock().unwrap_or_else(PoisonError::into_inner);
        condvar.notify_all();
    }
}

/// Delivers SIGINT, SIGTERM, SIGUSR1 and SIGUSR2 to `interrupt` until the guard is
/// dropped.
///
/// The first call takes these signals over for the whole process (one `signal-hook`
/// iterator and one thread, `notifier-signals`). A signal that arrives while no
/// [`SignalGuard`] is alive gets the system's default action: the process terminates,
/// as it would without any handler. Several guards may be alive at once; each of their
/// [`Interrupt`]s receives every signal.
#[cfg(unix)]
pub fn forward_signals(interrupt: &Interrupt) -> std::io::Result<SignalGuard> {
    let router = router::get()?;
    Ok(router.add(interrupt.clone()))
}

/// Keeps an [`Interrupt`] connected to the process's signals; see [`forward_signals`].
#[cfg(unix)]
#[must_use = "signals stop reaching the Interrupt as soon as the guard is dropped"]
#[derive(Debug)]
pub struct SignalGuard {
    id: u64,
}

#[cfg(unix)]
impl Drop for SignalGuard {
    fn drop(&mut self) {
        if let Ok(router) = router::get() {
            router.remove(self.id);
        }
    }
}

#[cfg(unix)]
mod router {
    use std::sync::{Mutex, OnceLock, PoisonError};

    use signal_hook::iterator::Signals;

    use super::{Interrupt, Signal, SignalGuard};

    pub(super) struct Router {
        targets: Mutex<(u64, Vec<(u64, Interrupt)>)>,
    }

    static ROUTER: OnceLock<Result<Router, String>> = OnceLock::new();

    pub(super) fn get() -> std::io::Result<&'static Router> {
        ROUTER.get_or_init(install).as_ref().map_err(|e| std::io::Error::other(e.clone()))
    }

    fn install() -> Result<Router, String> {
        let numbers: Vec<i32> = Signal::ALL.iter().map(|s| s.number()).collect();
        let mut signals = Signals::new(&numbers).map_err(|e| format!("cannot handle signals: {e}"))?;
        std::thread::Builder::new()
            .name("notifier-signals".into())
            .spawn(move || {
                for number in signals.forever() {
                    deliver(number);
                }
            })
            .map_err(|e| format!("cannot start the signal thread: {e}"))?;
        Ok(Router { targets: Mutex::new((0, Vec::new())) })
    }

    fn deliver(number: i32) {
        let targets: Vec<Interrupt> = match ROUTER.get() {
            Some(Ok(router)) => router.lock().1.iter().map(|(_, i)| i.clone()).collect(),
            _ => Vec::new(),
        };
        match Signal::from_number(number) {
            Some(signal) if !targets.is_empty() => targets.iter().for_each(|t| t.raise(signal)),
            _ => {
                // Nobody listens: behave as if we had never installed a handler.
                let _ = signal_hook::low_level::emulate_default_handler(number);
            }
        }
    }

    impl Router {
        fn lock(&self) -> std::sync::MutexGuard<'_, (u64, Vec<(u64, Interrupt)>)> {
            self.targets.lock().unwrap_or_else(PoisonError::into_inner)
        }

        pub(super) fn add(&self, interrupt: Interrupt) -> SignalGuard {
            let mut targets = self.lock();
            targets.0 += 1;
            let id = targets.0;
            targets.1.push((id, interrupt));
            SignalGuard { id }
        }

        pub(super) fn remove(&self, id: u64) {
            self.lock().1.retain(|(i, _)| *i != id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn watches_see_the_signals_of_their_phase_only() {
        let interrupt = Interrupt::new();
        let from_start = interrupt.watch_from_start();
        assert_eq!(from_start.check(), Ok(()));
        interrupt.raise(Signal::Term);
        let later = interrupt.watch();
        assert_eq!(from_start.signal(), Some(Signal::Term), "a signal before the window still counts");
        assert_eq!(later.signal(), None);
        let (seen, next) = from_start.split();
        assert_eq!(seen, Some(Signal::Term));
        assert_eq!(next.signal(), None);
        interrupt.raise(Signal::Int);
        assert_eq!(next.signal(), Some(Signal::Int));
        assert_eq!(later.signal(), Some(Signal::Int));
        assert_eq!(from_start.signal(), Some(Signal::Term), "the first signal of the phase");
        assert_eq!(interrupt.signals(), [Signal::Term, Signal::Int]);
    }

    #[test]
    fn hooks_run_until_their_guard_is_dropped() {
        let interrupt = Interrupt::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let guard = interrupt.on_signal(move |s| {
            assert_eq!(s, Signal::Usr1);
            c.fetch_add(1, Ordering::SeqCst);
        });
        interrupt.raise(Signal::Usr1);
        drop(guard);
        interrupt.raise(Signal::Usr1);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn wait_returns_on_the_flag_on_a_signal_or_at_the_deadline() {
        let interrupt = Interrupt::new();
        let watch = interrupt.watch();
        let flag = Flag::new();
        assert_eq!(watch.wait(&flag, Duration::from_millis(1)), Ok(false));

        let f = flag.clone();
        let setter = std::thread::spawn(move || f.set());
        assert_eq!(watch.wait(&flag, Duration::from_secs(600)), Ok(true));
        setter.join().ok();

        let i = interrupt.clone();
        let raiser = std::thread::spawn(move || i.raise(Signal::Int));
        assert_eq!(watch.sleep(Duration::from_secs(600)), Err(Signal::Int));
        raiser.join().ok();
    }

    #[test]
    fn only_sigint_and_sigterm_are_recorded_in_the_journal() {
        assert!(Signal::Int.is_recorded() && Signal::Term.is_recorded());
        assert!(!Signal::Usr1.is_recorded() && !Signal::Usr2.is_recorded());
        #[cfg(unix)]
        for s in Signal::ALL {
            assert_eq!(Signal::from_number(s.number()), Some(s));
        }
    }
}
