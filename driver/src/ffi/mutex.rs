//! SQLite's mutexes, made to spin briefly before they sleep.
//!
//! Every connection of a process to one database file shares a few of SQLite's mutexes: the one around the
//! WAL's shared-memory locks (taken twice by every read transaction, to begin and end it), the page-cache group's
//! (libsqlite3-sys's build keeps one group for the process, as an application linking asqlite gets it; this
//! workspace's own builds turn that off, see `.cargo/config.toml`) and the memory allocator's. Each is held for a few
//! dozen nanoseconds. SQLite's own mutexes are plain pthread mutexes, which put a thread that finds one held to
//! sleep in the kernel, and make the thread that lets go wake it with a second system call: two threads reading at
//! once spend more time in those two calls and the context switches between them than in SQLite (measured on a
//! mixed read/write load: a fifth of all samples in the shared-memory lock's futex calls). A mutex that spins a
//! little before it sleeps (`parking_lot`'s) waits out a holder that is about to let go without any system call,
//! and still sleeps when the holder does not let go soon.
//!
//! The methods are SQLite's pluggable mutex interface (`SQLITE_CONFIG_MUTEX`), installed once per process, before
//! SQLite initializes: by [`initialize`], which the first open calls. SQLite refuses a configuration after it has
//! initialized, so in a process where another library opened a connection first, SQLite keeps its own mutexes
//! (nothing else changes); so it does when its mutexes are set up already, as they are while another thread is
//! inside `sqlite3_initialize`. Every mutex is reentrant, which SQLite allows for the ones it asks to be fast.

use std::ffi::c_int;
use std::sync::OnceLock;

use libsqlite3_sys as ffi;
use parking_lot::lock_api::RawReentrantMutex;

/// A reentrant mutex that spins before it parks.
type Spinning = RawReentrantMutex<parking_lot::RawMutex, parking_lot::RawThreadId>;

/// SQLite's static mutexes, by type (`SQLITE_MUTEX_STATIC_MAIN` = 2 up to `SQLITE_MUTEX_STATIC_VFS3` = 13).
static STATIC: [Spinning; 12] = [const { Spinning::INIT }; 12];

/// The first static type: index 0 of [`STATIC`].
const FIRST_STATIC: c_int = ffi::SQLITE_MUTEX_STATIC_MAIN;

/// Whether SQLite took these mutexes: `None` until the first open asked.
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Prepare SQLite for asqlite: give it mutexes that spin briefly before they sleep, if it has not initialized yet
/// (see the module docs). Returns whether SQLite runs on them; later calls return the first answer.
///
/// The first connection asqlite opens calls this. Call it yourself at the start of `main` when something else in
/// the process (rusqlite, sqlx, another library linking the same SQLite) may open a connection first, since
/// SQLite takes a new configuration only before it initializes. Like SQLite's own `sqlite3_config`, it must not
/// run while another thread calls into SQLite for the first time.
pub fn initialize() -> bool {
    *INSTALLED.get_or_init(|| {
        let mut current = ffi::sqlite3_mutex_methods {
            xMutexInit: None,
            xMutexEnd: None,
            xMutexAlloc: None,
            xMutexFree: None,
            xMutexEnter: None,
            xMutexTry: None,
            xMutexLeave: None,
            xMutexHeld: None,
            xMutexNotheld: None,
        };
        // SAFETY: SQLITE_CONFIG_GETMUTEX copies SQLite's current methods into `current`, a live local of that type;
        // it fails with SQLITE_MISUSE (and writes nothing) once SQLite has initialized.
        let rc = unsafe {
            ffi::sqlite3_config(ffi::SQLITE_CONFIG_GETMUTEX, &mut current as *mut ffi::sqlite3_mutex_methods)
        };
        // Methods in place before SQLite has finished initializing: another thread is inside `sqlite3_initialize`
        // on them (SQLite sets them up first, and has already allocated mutexes with them), SQLite was shut down
        // after running on them, or the application installed its own. Replacing them would have SQLite enter,
        // leave and free mutexes it allocated one way through methods of another.
        if rc != ffi::SQLITE_OK || current.xMutexAlloc.is_some() {
            return false;
        }
        // SAFETY: SQLITE_CONFIG_MUTEX takes a pointer to the methods, which SQLite copies; it fails with
        // SQLITE_MISUSE (and changes nothing) once SQLite has initialized.
        let rc =
            unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MUTEX, &METHODS as *const ffi::sqlite3_mutex_methods) };
        rc == ffi::SQLITE_OK
    })
}

static METHODS: ffi::sqlite3_mutex_methods = ffi::sqlite3_mutex_methods {
    xMutexInit: Some(init),
    xMutexEnd: Some(end),
    xMutexAlloc: Some(alloc),
    xMutexFree: Some(free),
    xMutexEnter: Some(enter),
    xMutexTry: Some(try_enter),
    xMutexLeave: Some(leave),
    xMutexHeld: Some(held),
    xMutexNotheld: Some(not_held),
};

extern "C" fn init() -> c_int {
    ffi::SQLITE_OK
}

extern "C" fn end() -> c_int {
    ffi::SQLITE_OK
}

/// A mutex of SQLite's `kind`: a new one for the fast and recursive kinds, the static one of a static kind, or null
/// for a kind that does not exist (SQLite's own implementation answers the same).
extern "C" fn alloc(kind: c_int) -> *mut ffi::sqlite3_mutex {
    match kind {
        ffi::SQLITE_MUTEX_FAST | ffi::SQLITE_MUTEX_RECURSIVE => Box::into_raw(Box::new(Spinning::INIT)).cast(),
        _ => kind
            .checked_sub(FIRST_STATIC)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| STATIC.get(i))
            .map_or(std::ptr::null_mut(), |m| std::ptr::from_ref(m).cast_mut().cast()),
    }
}

/// The mutex behind SQLite's handle (null for none: SQLite calls these with the null mutex of a connection opened
/// without one, and they do nothing then).
fn mutex<'a>(p: *mut ffi::sqlite3_mutex) -> Option<&'a Spinning> {
    // SAFETY: every non-null handle SQLite passes came from `alloc`: a boxed or static `Spinning` that lives until
    // `free` (SQLite frees only the ones it allocated, and never while in use).
    unsafe { p.cast::<Spinning>().as_ref() }
}

extern "C" fn free(p: *mut ffi::sqlite3_mutex) {
    let is_static = STATIC.as_ptr_range().contains(&p.cast_const().cast());
    if !p.is_null() && !is_static {
        // SAFETY: a non-static handle was made by `Box::into_raw` in `alloc`, and SQLite frees it once.
        drop(unsafe { Box::from_raw(p.cast::<Spinning>()) });
    }
}

extern "C" fn enter(p: *mut ffi::sqlite3_mutex) {
    if let Some(m) = mutex(p) {
        m.lock();
    }
}

extern "C" fn try_enter(p: *mut ffi::sqlite3_mutex) -> c_int {
    match mutex(p) {
        Some(m) if !m.try_lock() => ffi::SQLITE_BUSY,
        _ => ffi::SQLITE_OK,
    }
}

extern "C" fn leave(p: *mut ffi::sqlite3_mutex) {
    if let Some(m) = mutex(p) {
        // SAFETY: SQLite leaves only a mutex this thread entered.
        unsafe { m.unlock() };
    }
}

extern "C" fn held(p: *mut ffi::sqlite3_mutex) -> c_int {
    mutex(p).is_none_or(Spinning::is_owned_by_current_thread).into()
}

extern "C" fn not_held(p: *mut ffi::sqlite3_mutex) -> c_int {
    mutex(p).is_none_or(|m| !m.is_owned_by_current_thread()).into()
}
