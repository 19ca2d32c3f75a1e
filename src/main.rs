use std::process::ExitCode;

fn main() -> ExitCode {
    tune_malloc();
    // The workers that read site-packages allocate most of a run's memory:
    // each backs its malloc arena with transparent huge pages as it starts.
    // Stacks as big as the main thread's: the whole run happens on them.
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(8 << 20)
        .start_handler(|_| huge_pages_for_this_threads_arena())
        .build_global();
    std::panic::set_hook(Box::new(envdoctor::panic_hook));
    // A bug is envdoctor's own failure: exit 2 (the hook said what), never
    // the 101 of an unwound panic that a CI gate might read as "findings".
    let run = std::panic::catch_unwind(|| on_a_worker(|| envdoctor::app::run(std::env::args_os())));
    let Ok(result) = run else {
        return ExitCode::from(2);
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // A closed pipe (`envdoctor scan | head`) is not a failure.
        Err(envdoctor::Error::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            // Errors quote files and requirements: redacted and escaped
            // like everything else envdoctor writes.
            let msg = envdoctor::redact::text(&e.to_string());
            eprintln!("envdoctor: error: {}", envdoctor::render::clean(&msg));
            ExitCode::from(2)
        }
    }
}

/// Runs `f` on a worker of the global pool, the main thread waiting: what
/// the run allocates then comes from a huge-page arena
/// ([`huge_pages_for_this_threads_arena`]), not from the main arena in
/// small pages. With one target (`check --python`, the active venv) the
/// reading started on the main thread and stayed there: one venv of
/// 10,000 distributions took 2,600 page faults instead of 520, and
/// `check --python` was slower than `check --all`. (`rayon::scope` called
/// from outside the pool runs its body on a worker and blocks until it is
/// done; a panic comes back here.)
fn on_a_worker<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| f())
}

/// glibc's malloc, set for a short run that keeps most of what it reads:
/// - A thread's arena is one 64 MiB reservation made writable a few pages
///   at a time, each step an `mprotect` that takes the address-space lock
///   every page fault also needs (4,700 of them in one `check --all` of 50
///   venvs). A top pad of 24 MiB makes most of it writable at once
///   (address space, not memory: pages never touched cost nothing), and
///   keeps the grown edge off the small pages of a huge-page arena (one
///   venv of 10,000 distributions: 3,200 faults at 16 MiB, 520 at 24).
///   More pad bought nothing there, and a hostile 40 MB METADATA and RECORD
///   then peaked at 100 MB instead of 78.
/// - Nothing is trimmed during the run (a trim also splits a huge page
///   into small ones), and blocks up to 8 MiB come from the arenas, not
///   from a private `mmap` each (bigger ones, a huge file's read buffer,
///   still go back to the system when freed).
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt(3) sets allocator parameters; called first thing in
    // main, before any thread exists. It touches no memory of ours.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, 24 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 8 << 20);
    }
}

/// Asks for transparent huge pages under this thread's malloc arena: a
/// `check --all` of 50 venvs of 200 distributions touched 6,400 fresh
/// 4 KiB pages, one page fault each (one venv of 10,000: 9,600); with
/// 2 MiB pages it takes about 300, and the run 0.91-0.95x the time.
/// (glibc's `glibc.malloc.hugetlb=1` tunable does the same, but only from
/// the environment at start.)
///
/// glibc puts a thread's arena at the start of its own 64 MiB-aligned
/// reservation, so the block a first `malloc` returns names it. Where that
/// does not hold (another allocator, the main arena), the advice falls on
/// memory that is not ours to shape or on nothing: `MADV_HUGEPAGE` never
/// changes what memory holds, only how it is mapped, and a failure is
/// ignored. The arena's first 2 MiB were touched before the advice (its
/// header), so they stay in small pages; a block spanning most of them,
/// never written, starts the arena's real use at the next huge page.
fn huge_pages_for_this_threads_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc/free of a block we never read; madvise(MADV_HUGEPAGE)
    // on an aligned range only sets a mapping hint (ENOMEM for unmapped
    // parts is ignored). The pad block is leaked on purpose, untouched.
    unsafe {
        const HEAP: usize = 64 << 20;
        const HUGE: usize = 2 << 20;
        let p = libc::malloc(64);
        if p.is_null() {
            return;
        }
        let heap = (p as usize) & !(HEAP - 1);
        let advised = libc::madvise(heap as *mut libc::c_void, HEAP, libc::MADV_HUGEPAGE) == 0;
        libc::free(p);
        if advised && (p as usize) - heap < HUGE / 2 {
            std::hint::black_box(libc::malloc(HUGE - (64 << 10)));
        }
    }
}
