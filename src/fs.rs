//! Every read envdoctor makes goes through [`Fs`]: it maps paths into the
//! inspected root (`--root DIR`), resolves symlinks inside that root (an
//! absolute link in a container image points into the image, not the host),
//! and bounds every read. Nothing here writes, and nothing opens a FIFO,
//! socket or device: opening a FIFO for reading blocks until a writer comes.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// How many symlinks one resolution may follow before it is called a loop
/// (Linux's own limit is 40).
const MAX_LINK_HOPS: usize = 40;

/// Text files envdoctor reads whole (pyvenv.cfg, .pth, configs) are small;
/// anything past this is cut and treated as what was read.
pub const MAX_TEXT: u64 = 1 << 20;

/// Directory listings are cut here (a site-packages with more entries is not
/// a real one).
pub const MAX_DIR_ENTRIES: usize = 100_000;

#[derive(Debug, Clone)]
pub struct Fs {
    /// The host directory that stands for `/`.
    root: PathBuf,
    /// What each path's stat said, this run (see [`Fs::metadata`]).
    stats: std::sync::Arc<StatCache>,
}

/// Per kind of stat ([`Stat`] as an index): path -> the metadata or the
/// error's OS code (or kind). Looked up by `&Path`: a hit allocates nothing.
type StatCache = Mutex<[rustc_hash::FxHashMap<PathBuf, Result<Metadata, StatError>>; 3]>;

/// Which stat a cached answer is.
#[derive(Debug, Clone, Copy)]
enum Stat {
    /// Of a path inside the root, symlinks followed.
    Follow,
    /// Of a path inside the root, its last component not followed.
    NoFollow,
    /// `lstat` of a host path (a step of [`Fs::canonicalize`]).
    HostLstat,
}

#[derive(Debug, Clone, Copy)]
enum StatError {
    Os(i32),
    Kind(io::ErrorKind),
}

impl StatError {
    fn of(e: &io::Error) -> Self {
        e.raw_os_error()
            .map_or(StatError::Kind(e.kind()), StatError::Os)
    }

    fn error(self) -> io::Error {
        match self {
            StatError::Os(code) => io::Error::from_raw_os_error(code),
            StatError::Kind(k) => io::Error::from(k),
        }
    }
}

impl Fs {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Fs {
            root: root.into(),
            stats: Default::default(),
        }
    }

    /// One stat per path and run: discovery asks the same questions of a
    /// base interpreter for each of its venvs (`os.py`, `site.py`, its
    /// `bin/`), fifty venvs over. A run is a reading of one moment; a file
    /// that changes during it may be seen either way.
    fn stat_cached(&self, p: &Path, how: Stat) -> io::Result<Metadata> {
        let slot = how as usize;
        if let Some(hit) = self.stats.lock().ok().and_then(|m| m[slot].get(p).cloned()) {
            return hit.map_err(StatError::error);
        }
        let got = match how {
            Stat::Follow => self.metadata_uncached(p),
            Stat::NoFollow => self.host_nofollow(p).and_then(std::fs::symlink_metadata),
            Stat::HostLstat => std::fs::symlink_metadata(p),
        };
        if let Ok(mut m) = self.stats.lock() {
            m[slot].insert(
                p.to_path_buf(),
                got.as_ref().map(Clone::clone).map_err(StatError::of),
            );
        }
        got
    }

    pub fn is_host_root(&self) -> bool {
        self.root == Path::new("/")
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The host path for a path inside the root. Relative paths are taken as
    /// relative to the root.
    pub fn host(&self, p: &Path) -> PathBuf {
        if self.is_host_root() {
            return p.to_path_buf();
        }
        let mut out = self.root.clone();
        for c in p.components() {
            match c {
                Component::Normal(n) => out.push(n),
                Component::ParentDir if out != self.root => {
                    out.pop();
                }
                _ => {}
            }
        }
        out
    }

    /// Resolves every symlink in `p` (which must be absolute), staying inside
    /// the root. Fails with the OS error for a missing component and with
    /// `ELOOP` for a symlink loop. Walked component by component, as
    /// `realpath` does, but each step's `lstat` is remembered for the run:
    /// fifty venvs resolve the same `/root/.pyenv/versions/...` prefix.
    pub fn canonicalize(&self, p: &Path) -> io::Result<PathBuf> {
        if !p.is_absolute() && self.is_host_root() {
            return std::fs::canonicalize(p);
        }
        let mut hops = 0;
        let mut done = PathBuf::from("/");
        let mut todo: Vec<OsString> = components_rev(p);
        while let Some(part) = todo.pop() {
            if part == ".." {
                done.pop();
                continue;
            }
            if part == "." || part.is_empty() {
                continue;
            }
            let candidate = done.join(&part);
            let meta = self.stat_cached(&self.host(&candidate), Stat::HostLstat)?;
            if meta.file_type().is_symlink() {
                hops += 1;
                if hops > MAX_LINK_HOPS {
                    return Err(io::Error::from_raw_os_error(libc::ELOOP));
                }
                let target = std::fs::read_link(self.host(&candidate))?;
                if target.is_absolute() {
                    done = PathBuf::from("/");
                }
                todo.extend(components_rev(&target));
            } else {
                done = candidate;
            }
        }
        Ok(done)
    }

    /// The host path to open for `p`, its symlinks resolved inside the root
    /// (on the host root the OS resolves them itself).
    fn resolved_host(&self, p: &Path) -> io::Result<PathBuf> {
        if self.is_host_root() {
            Ok(p.to_path_buf())
        } else {
            Ok(self.host(&self.canonicalize(p)?))
        }
    }

    /// Metadata with symlinks followed inside the root.
    pub fn metadata(&self, p: &Path) -> io::Result<Metadata> {
        self.stat_cached(p, Stat::Follow)
    }

    fn metadata_uncached(&self, p: &Path) -> io::Result<Metadata> {
        if self.is_host_root() {
            return std::fs::metadata(p);
        }
        std::fs::metadata(self.host(&self.canonicalize(p)?))
    }

    /// Metadata of `p` itself (a final symlink not followed); the
    /// directories leading to it are resolved inside the root, so a link
    /// on the way (`/opt/conda -> /X`) never reaches the host's `/X`.
    pub fn symlink_metadata(&self, p: &Path) -> io::Result<Metadata> {
        self.stat_cached(p, Stat::NoFollow)
    }

    pub fn read_link(&self, p: &Path) -> io::Result<PathBuf> {
        std::fs::read_link(self.host_nofollow(p)?)
    }

    /// The host path of `p` with every directory before its last component
    /// resolved inside the root; the last component is left as it is.
    pub fn host_nofollow(&self, p: &Path) -> io::Result<PathBuf> {
        if self.is_host_root() {
            return Ok(p.to_path_buf());
        }
        let p = normpath_lexical_last(p);
        match (p.parent(), p.file_name()) {
            (Some(parent), Some(name)) => Ok(self.host(&self.canonicalize(parent)?).join(name)),
            _ => Ok(self.host(&p)),
        }
    }

    /// The host path to hand to a tool that opens it (statvfs, a walk):
    /// resolved inside the root as far as it exists, the rest joined.
    pub fn host_resolved_lenient(&self, p: &Path) -> PathBuf {
        if self.is_host_root() {
            return p.to_path_buf();
        }
        for a in p.ancestors() {
            if let Ok(c) = self.canonicalize(a) {
                let rest = p.strip_prefix(a).unwrap_or(Path::new(""));
                return self.host(&c.join(rest));
            }
        }
        self.host(p)
    }

    pub fn exists(&self, p: &Path) -> bool {
        self.metadata(p).is_ok()
    }

    pub fn is_dir(&self, p: &Path) -> bool {
        self.metadata(p).map(|m| m.is_dir()).unwrap_or(false)
    }

    pub fn is_file(&self, p: &Path) -> bool {
        self.metadata(p).map(|m| m.is_file()).unwrap_or(false)
    }

    /// A regular file that some user can execute.
    pub fn is_executable_file(&self, p: &Path) -> bool {
        use std::os::unix::fs::PermissionsExt;
        self.metadata(p)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    }

    /// Opens a regular file for reading. Anything else (FIFO, socket, device,
    /// directory) is refused before it is opened, and the open itself is
    /// non-blocking in case the file was swapped underneath us.
    fn open_regular(&self, p: &Path) -> io::Result<(File, u64)> {
        let meta = self.metadata(p)?;
        if !meta.is_file() {
            return Err(not_regular(&meta));
        }
        let host = self.resolved_host(p)?;
        let f = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(host)?;
        Ok((f, meta.len()))
    }

    /// A regular file opened for reading (a zip archive that is read in
    /// bounded parts), within the run's read budget for its whole size.
    pub fn open_read(&self, p: &Path) -> io::Result<File> {
        let (f, len) = self.open_regular(p)?;
        if !take_from_budget(len.min(BIG_READ)) {
            return Err(budget_spent());
        }
        Ok(f)
    }

    /// Up to `max` bytes from the start of a regular file.
    pub fn read_head(&self, p: &Path, max: u64) -> io::Result<Vec<u8>> {
        let mut buf = Vec::new();
        self.read_head_into(p, max, &mut buf)?;
        Ok(buf)
    }

    /// [`Fs::read_head`] into `buf` (cleared first), whose allocation a
    /// caller reading thousands of files reuses.
    pub fn read_head_into(&self, p: &Path, max: u64, buf: &mut Vec<u8>) -> io::Result<()> {
        let (f, _) = self.open_regular(p)?;
        let meta = f.metadata()?;
        read_budgeted(f, &meta, max, buf)
    }

    /// A text file, at most `max` bytes of it, decoded leniently (a config
    /// file in Latin-1 still yields its ASCII keys). The flag says whether it
    /// was cut.
    pub fn read_text_limited(&self, p: &Path, max: u64) -> io::Result<(String, bool)> {
        Ok(decode_text(&self.read_head(p, max + 1)?, max))
    }

    pub fn read_text(&self, p: &Path) -> io::Result<String> {
        self.read_text_limited(p, MAX_TEXT).map(|(s, _)| s)
    }

    /// The names in a directory, sorted (byte order, as Python's `sorted`
    /// on str mostly agrees with), cut at [`MAX_DIR_ENTRIES`].
    pub fn read_dir_names(&self, p: &Path) -> io::Result<Vec<OsString>> {
        self.read_dir_names_where(p, |_| true)
    }

    /// [`Fs::read_dir_names`], keeping only the names `keep` accepts: the
    /// others cost no allocation (a venv's site-packages lists hundreds of
    /// entries to find its few `.pth` files).
    pub fn read_dir_names_where(
        &self,
        p: &Path,
        keep: impl Fn(&[u8]) -> bool,
    ) -> io::Result<Vec<OsString>> {
        use std::os::unix::ffi::OsStrExt;
        let dir = self.open_dir(p)?;
        let mut names = Vec::new();
        each_entry(dir.fd(), |name, _| {
            if keep(name) {
                names.push(std::ffi::OsStr::from_bytes(name).to_os_string());
            }
        })?;
        names.sort();
        Ok(names)
    }
}

/// What [`Fs::read_text_limited`] makes of the first `max + 1` bytes of a
/// file: at most `max` of them, BOM dropped, decoded leniently, and whether
/// the file went on.
pub fn decode_text(bytes: &[u8], max: u64) -> (String, bool) {
    let truncated = bytes.len() as u64 > max;
    let bytes = &bytes[..bytes.len().min(max as usize)];
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    (lossy(bytes).into_owned(), truncated)
}

/// `String::from_utf8_lossy`, with the fast validation first: the lossy
/// decoder walks byte by byte even over valid text, and nearly every file
/// read is valid UTF-8 (it was 8% of a `check --all`).
pub fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.into(),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// [`lossy`] of an owned buffer, reusing it when it is valid UTF-8.
pub fn lossy_owned(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Up to the last `max` bytes of a regular file given by its host path, for
/// walkers that already hold one (a cache walk under `--root`). Links are
/// not followed and anything but a regular file is refused.
pub fn read_tail_host(host: &Path, max: u64) -> io::Result<Vec<u8>> {
    use std::io::{Seek, SeekFrom};
    let mut f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_NOFOLLOW)
        .open(host)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let start = meta.len().saturating_sub(max);
    f.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::new();
    f.take(max).read_to_end(&mut buf)?;
    Ok(buf)
}

/// What a directory listing says an entry is, without a `stat` (Linux
/// fills it from the directory itself). Symlinks must still be followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    Dir,
    File,
    Symlink,
    /// FIFO, socket, device.
    Other,
}

impl Fs {
    /// Like [`Fs::read_dir_names`], with each entry's type as the listing
    /// gives it: a site-packages scan then needs no `stat` per entry.
    pub fn read_dir_typed(&self, p: &Path) -> io::Result<Vec<(OsString, EntryType)>> {
        // In listing order, as `list_typed`.
        self.open_dir(p)?.list_typed()
    }
}

/// A directory held open. Its entries are listed once and its plain files
/// opened relative to it: the kernel then walks one name per open instead of
/// the whole path, which is most of the cost of a site-packages scan (tens
/// of thousands of small files under long paths). No symlink is followed
/// through a handle: callers read symlinked entries by path, through [`Fs`],
/// which keeps them inside the root.
pub struct OpenDir {
    fd: rustix::fd::OwnedFd,
}

/// Calls `f` with each entry of the open directory `fd` (`.` and `..`
/// left out), in listing order, as its name's bytes and its type, from one
/// reused buffer: no allocation per entry. Stops after
/// [`MAX_DIR_ENTRIES`] entries.
fn each_entry(
    fd: rustix::fd::BorrowedFd<'_>,
    mut f: impl FnMut(&[u8], rustix::fs::FileType),
) -> io::Result<()> {
    let mut buf = vec![std::mem::MaybeUninit::<u8>::uninit(); 32 << 10];
    let mut dir = rustix::fs::RawDir::new(fd, &mut buf);
    let mut n = 0usize;
    while let Some(entry) = dir.next() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        f(name, entry.file_type());
        n += 1;
        if n >= MAX_DIR_ENTRIES {
            break;
        }
    }
    Ok(())
}

const DIR_FLAGS: rustix::fs::OFlags = rustix::fs::OFlags::RDONLY
    .union(rustix::fs::OFlags::DIRECTORY)
    .union(rustix::fs::OFlags::CLOEXEC)
    .union(rustix::fs::OFlags::NOCTTY);

impl Fs {
    /// Opens a directory (symlinks in `p` resolved inside the root, as
    /// [`Fs::metadata`] does).
    pub fn open_dir(&self, p: &Path) -> io::Result<OpenDir> {
        let host = self.resolved_host(p)?;
        let fd = rustix::fs::open(host.as_path(), DIR_FLAGS, rustix::fs::Mode::empty())?;
        Ok(OpenDir { fd })
    }
}

impl EntryType {
    /// What a listing or a stat calls this type.
    fn of(t: rustix::fs::FileType) -> EntryType {
        match t {
            rustix::fs::FileType::Symlink => EntryType::Symlink,
            rustix::fs::FileType::Directory => EntryType::Dir,
            rustix::fs::FileType::RegularFile => EntryType::File,
            _ => EntryType::Other,
        }
    }
}

impl OpenDir {
    fn fd(&self) -> rustix::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The entries with their types, in the order the listing gives them,
    /// cut at [`MAX_DIR_ENTRIES`] (as [`Fs::read_dir_typed`]). Reads the handle's
    /// listing once: call it once per handle.
    pub fn list_typed(&mut self) -> io::Result<Vec<(OsString, EntryType)>> {
        use std::os::unix::ffi::OsStrExt;
        let mut out = Vec::new();
        let fd = self.fd();
        each_entry(fd, |name, t| {
            let t = match t {
                // A filesystem that leaves the type out (DT_UNKNOWN): ask.
                rustix::fs::FileType::Unknown => {
                    let Ok(name) = std::ffi::CString::new(name) else {
                        return;
                    };
                    let flags = rustix::fs::AtFlags::SYMLINK_NOFOLLOW;
                    match rustix::fs::statat(fd, name.as_c_str(), flags) {
                        Ok(st) => EntryType::of(rustix::fs::FileType::from_raw_mode(st.st_mode)),
                        Err(_) => return,
                    }
                }
                t => EntryType::of(t),
            };
            out.push((std::ffi::OsStr::from_bytes(name).to_os_string(), t));
        })?;
        // In the listing's own order, which Python's `os.listdir` and so
        // `importlib.metadata` follow; callers sort for display.
        Ok(out)
    }

    /// Up to `max` bytes of the regular file `rel` (relative to this
    /// directory), as [`Fs::read_head`] reads a path. A symlink as the last
    /// component is refused (`ELOOP`): read those by path.
    pub fn read_head(&self, rel: &Path, max: u64) -> io::Result<Vec<u8>> {
        let mut buf = Vec::new();
        self.read_head_into(rel, max, &mut buf)?;
        Ok(buf)
    }

    /// [`OpenDir::read_head`] into `buf` (cleared first), as
    /// [`Fs::read_head_into`].
    pub fn read_head_into(&self, rel: &Path, max: u64, buf: &mut Vec<u8>) -> io::Result<()> {
        use rustix::fs::OFlags;
        let fd = rustix::fs::openat(
            self.fd(),
            rel,
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )?;
        let f = File::from(fd);
        let meta = f.metadata()?;
        if !meta.is_file() {
            return Err(not_regular(&meta));
        }
        read_budgeted(f, &meta, max, buf)
    }

    /// What `rel` (relative to this directory) is, the last component not
    /// followed.
    pub fn entry_type(&self, rel: &Path) -> io::Result<EntryType> {
        let st = rustix::fs::statat(self.fd(), rel, rustix::fs::AtFlags::SYMLINK_NOFOLLOW)?;
        Ok(EntryType::of(rustix::fs::FileType::from_raw_mode(
            st.st_mode,
        )))
    }

    /// Whether the plain directory `name/` holds a regular file `file`
    /// (following a symlinked `file`, as [`Fs::is_file`] does on the host
    /// root; callers use it only there).
    pub fn has_file_in(&self, name: &std::ffi::OsStr, file: &str) -> bool {
        let mut rel = PathBuf::from(name);
        rel.push(file);
        let fd = self.fd();
        rustix::fs::statat(fd, rel.as_path(), rustix::fs::AtFlags::empty())
            .is_ok_and(|st| rustix::fs::FileType::from_raw_mode(st.st_mode).is_file())
    }
}

/// Why a non-regular file is refused: reading a FIFO would block, a device
/// could be endless.
/// What all reads of one run may take together: each read is capped, and
/// so is their sum, so that no tree (a thousand hard links to one sparse
/// gigabyte) can make a run read without end.
pub const READ_BUDGET: u64 = 1 << 30;
/// A read larger than this is made once per (device, inode) in a run: a
/// second name for the same big file (a hard link) is skipped.
const BIG_READ: u64 = 4 << 20;

static READ_LEFT: AtomicU64 = AtomicU64::new(READ_BUDGET);
/// What a thread takes of [`READ_LEFT`] at a time: two threads reading
/// 20,000 small files each moved one shared counter twice per file (a
/// cache line passed between the cores every time). What a thread holds
/// and has not read is at most this, so the run's total stays bounded.
const BUDGET_SHARE: u64 = 4 << 20;

thread_local! {
    /// This thread's part of [`READ_LEFT`], taken and not yet read.
    static BUDGET_HELD: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Takes `n` bytes from the run's read budget: from this thread's share,
/// else a new share from the run's (or, near its end, exactly `n`).
fn take_from_budget(n: u64) -> bool {
    BUDGET_HELD.with(|held| take_share(&READ_LEFT, held, n))
}

/// [`take_from_budget`] of a given run budget and thread share.
fn take_share(left: &AtomicU64, held: &std::cell::Cell<u64>, n: u64) -> bool {
    let have = held.get();
    if have >= n {
        held.set(have - n);
        return true;
    }
    let need = n - have;
    for take in [need.max(BUDGET_SHARE), need] {
        let taken = left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| {
                l.checked_sub(take)
            })
            .is_ok();
        if taken {
            held.set(have + take - n);
            return true;
        }
    }
    false
}

/// Gives back what was taken for a read and not read (the file was
/// shorter): up to a share stays with this thread for its next reads, the
/// rest goes back to the run's (a file that says size 0 is read to its
/// cap, which is far more than a share).
fn return_to_budget(n: u64) {
    BUDGET_HELD.with(|held| give_back(&READ_LEFT, held, n));
}

/// [`return_to_budget`] of a given run budget and thread share.
fn give_back(left: &AtomicU64, held: &std::cell::Cell<u64>, n: u64) {
    let have = held.get().saturating_add(n);
    let excess = have.saturating_sub(BUDGET_SHARE);
    if excess > 0 {
        left.fetch_add(excess, Ordering::Relaxed);
    }
    held.set(have - excess);
}

fn budget_spent() -> io::Error {
    io::Error::other(format!(
        "skipped: envdoctor's read budget for one run ({} MiB) is spent",
        READ_BUDGET >> 20
    ))
}

fn big_reads() -> &'static Mutex<HashSet<(u64, u64)>> {
    static SEEN: OnceLock<Mutex<HashSet<(u64, u64)>>> = OnceLock::new();
    SEEN.get_or_init(Default::default)
}

/// Reads up to `max` bytes of an open regular file into `buf` (cleared
/// first), within the run's budget.
fn read_budgeted(f: File, meta: &Metadata, max: u64, buf: &mut Vec<u8>) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let len = meta.len();
    // A regular file of known size is read to that size (no extra read to
    // see the end); size 0 may be a lie (procfs), so read to `max`.
    let limit = if len > 0 { len.min(max) } else { max };
    if limit > BIG_READ
        && !big_reads()
            .lock()
            .map(|mut s| s.insert((meta.dev(), meta.ino())))
            .unwrap_or(true)
    {
        return Err(io::Error::other(
            "skipped: the same large file was already read under another name (a hard link)",
        ));
    }
    if !take_from_budget(limit) {
        return Err(budget_spent());
    }
    // Sized from the stat already made: one read instead of a series of
    // growing ones (site-packages scans read tens of thousands of files).
    buf.clear();
    buf.reserve(limit.min(64 << 20) as usize + 1);
    let read = f.take(limit).read_to_end(buf);
    return_to_budget(limit.saturating_sub(buf.len() as u64));
    read.map(|_| ())
}

fn not_regular(meta: &Metadata) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        if meta.is_dir() {
            "is a directory"
        } else {
            "not a regular file (FIFO, socket or device)"
        },
    )
}

/// `p` without a trailing `.` or `..` as its last component (so that the
/// last component names an entry), resolved lexically.
fn normpath_lexical_last(p: &Path) -> PathBuf {
    match p.components().next_back() {
        Some(Component::CurDir) | Some(Component::ParentDir) => normpath(p),
        _ => p.to_path_buf(),
    }
}

fn components_rev(p: &Path) -> Vec<OsString> {
    let mut parts: Vec<OsString> = p
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect();
    parts.reverse();
    parts
}

/// Lexical normalisation as Python's `os.path.normpath` on POSIX: `.` and
/// empty parts dropped, `..` folded against the part before it.
pub fn normpath(p: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// A path as the snapshot stores it. Names that are not UTF-8 are kept
/// readable with U+FFFD; the probe that met them says so in a note.
pub fn display(p: &Path) -> String {
    // `to_string_lossy` walks the bytes one by one even when they are
    // valid UTF-8 (nearly always): validate the fast way first.
    match p.to_str() {
        Some(s) => s.to_owned(),
        None => p.to_string_lossy().into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Threads take the run's read budget in shares; what all threads read
    /// together still never passes it, and the last bytes of it can still
    /// be read (a share is cut to what is asked near the end).
    #[test]
    fn read_budget_shares_never_exceed_the_run_budget() {
        use std::cell::Cell;
        let total = 3 * BUDGET_SHARE + 1000;
        let left = AtomicU64::new(total);
        let (a, b) = (Cell::new(0), Cell::new(0));
        // Small reads come from a thread's share, one share at a time.
        assert!(take_share(&left, &a, 10));
        assert_eq!(left.load(Ordering::Relaxed), total - BUDGET_SHARE);
        assert_eq!(a.get(), BUDGET_SHARE - 10);
        assert!(take_share(&left, &a, 100));
        assert_eq!(left.load(Ordering::Relaxed), total - BUDGET_SHARE);
        // A read larger than a share takes what it lacks.
        assert!(take_share(&left, &b, 2 * BUDGET_SHARE + 500));
        assert_eq!(left.load(Ordering::Relaxed), 500);
        assert_eq!(b.get(), 0);
        // Near the end, exactly what is asked; then nothing more.
        assert!(take_share(&left, &b, 500));
        assert_eq!(left.load(Ordering::Relaxed), 0);
        assert!(!take_share(&left, &b, 1));
        // Granted in all: 10 + 100 + 2 shares + 500 + 500 of the budget,
        // the rest of `a`'s share still held.
        assert_eq!(
            10 + 100 + 2 * BUDGET_SHARE + 1000 + a.get() + b.get(),
            total
        );
        // The share left with a thread still serves it.
        assert!(take_share(&left, &a, BUDGET_SHARE - 110));
        assert!(!take_share(&left, &a, 1));
        // Unread bytes come back: a thread keeps at most a share, the rest
        // returns to the run's budget for the other threads.
        give_back(&left, &a, 3 * BUDGET_SHARE);
        assert_eq!(a.get(), BUDGET_SHARE);
        assert_eq!(left.load(Ordering::Relaxed), 2 * BUDGET_SHARE);
        assert!(take_share(&left, &b, 2 * BUDGET_SHARE));
        assert!(!take_share(&left, &b, 1));
    }

    #[test]
    fn normpath_matches_python() {
        assert_eq!(normpath(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(normpath(Path::new("/../a")), PathBuf::from("/a"));
        assert_eq!(normpath(Path::new("a/../../b")), PathBuf::from("../b"));
    }

    #[test]
    fn canonicalize_stays_inside_root_and_stops_loops() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("usr/bin")).unwrap();
        std::fs::write(root.join("usr/bin/python3.11"), b"").unwrap();
        // An absolute link, as container images have: it must point into the image.
        std::os::unix::fs::symlink("/usr/bin/python3.11", root.join("usr/bin/python3")).unwrap();
        std::os::unix::fs::symlink("loop2", root.join("loop1")).unwrap();
        std::os::unix::fs::symlink("loop1", root.join("loop2")).unwrap();
        let fs = Fs::new(root);
        assert_eq!(
            fs.canonicalize(Path::new("/usr/bin/python3")).unwrap(),
            PathBuf::from("/usr/bin/python3.11")
        );
        let err = fs.canonicalize(Path::new("/loop1")).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ELOOP));
        // `..` cannot climb out of the root.
        assert_eq!(
            fs.host(Path::new("/../../etc/passwd")),
            root.join("etc/passwd")
        );
    }

    #[test]
    fn fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("x.pth");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let fs = Fs::new("/");
        assert!(fs.read_text(&fifo).is_err());
    }
}
