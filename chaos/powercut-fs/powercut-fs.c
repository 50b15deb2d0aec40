// powercut-fs: a file system for power-cut tests, in the spirit of Jepsen's LazyFS. It keeps everything in
// memory in two versions: what programs see (the page cache), and what a disk would still hold after the
// power went out (the durable state). A write changes only the first; fsync(2) or fdatasync(2) of a file
// (and so O_SYNC/O_DSYNC writes and msync(2), which the kernel turns into FUSE fsyncs) copies that file's
// data and size to the second; fsync(2) of a directory does the same for its entries. Everything else
// (creating, renaming and unlinking files, truncating them) is lost at a cut unless made durable so.
//
// A power cut is SIGUSR1 (or an unmount from outside), sent once every program using it is gone: the
// file system detaches itself, aborts its kernel connection (so copies of the mount that other mount
// namespaces made, e.g. by `ip netns exec`, cannot keep the old state alive), then forgets what was not durable (optionally tearing the last write that was not flushed: a random
// 512-byte-aligned prefix of it is kept, as a disk that lost power mid-write might), and mounts itself
// again at the same place, as the machine coming back. SIGTERM or SIGINT ends it (unmounting).
//
// usage: powercut-fs MOUNTPOINT [--fsync-delay-ms MIN-MAX] [--ignore-fsync | --ignore-data-fsync] [--tear-seed N]
//   --fsync-delay-ms     every fsync waits this long first, like an SD card's flush (e.g. 5-20)
//   --ignore-fsync       fsync makes nothing durable: a card that lies about every flush
//   --ignore-data-fsync  fsync makes a file's size and a directory's entries durable but not the bytes
//                        written, while write-through (O_SYNC/O_DSYNC) writes stay durable: a card that
//                        answers flushes from a volatile cache it loses at a cut. Files keep their names
//                        and lengths and read back zeros (or older bytes) where the lost writes were.
//                        SIGUSR2 turns this on while mounted: a card that starts lying.
//   --tear-seed N        at each cut, keep a random prefix of the last unflushed write (seeded)
// It prints "mounted N" (N = 1, 2, ...) each time it is ready, "cut N: ..." with what a cut dropped,
// and "lying: ..." at the first fsync it ignores after SIGUSR2.
//
// Single-threaded (one request at a time), so no locks: simple, and the kernel queues requests meanwhile.
#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h> // RENAME_NOREPLACE
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE_BYTES 4096u
#define SECTOR_BYTES 512u

// ---------------------------------------------------------------------------------------------------------
// A map from page index to a 4 KiB page (open addressing; pages owned by the map).

typedef struct {
    uint64_t *keys;
    uint8_t **pages;
    size_t capacity; // a power of two, or 0
    size_t count;
} page_map;

static size_t slot_of(uint64_t key, size_t capacity) {
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & (capacity - 1);
}

static uint8_t *pages_get(const page_map *m, uint64_t key) {
    if (m->capacity == 0) return NULL;
    for (size_t i = slot_of(key, m->capacity);; i = (i + 1) & (m->capacity - 1)) {
        if (m->pages[i] == NULL) return NULL;
        if (m->keys[i] == key) return m->pages[i];
    }
}

static void pages_put(page_map *m, uint64_t key, uint8_t *page);

static void pages_grow(page_map *m) {
    page_map bigger = {0};
    bigger.capacity = m->capacity ? m->capacity * 2 : 64;
    bigger.keys = calloc(bigger.capacity, sizeof(uint64_t));
    bigger.pages = calloc(bigger.capacity, sizeof(uint8_t *));
    if (!bigger.keys || !bigger.pages) { perror("powercut-fs: out of memory"); abort(); }
    for (size_t i = 0; i < m->capacity; i++)
        if (m->pages[i]) pages_put(&bigger, m->keys[i], m->pages[i]);
    free(m->keys);
    free(m->pages);
    *m = bigger;
}

// Stores page under key, freeing a page already there.
static void pages_put(page_map *m, uint64_t key, uint8_t *page) {
    if ((m->count + 1) * 4 > m->capacity * 3) pages_grow(m);
    for (size_t i = slot_of(key, m->capacity);; i = (i + 1) & (m->capacity - 1)) {
        if (m->pages[i] == NULL) {
            m->keys[i] = key;
            m->pages[i] = page;
            m->count++;
            return;
        }
        if (m->keys[i] == key) {
            if (m->pages[i] != page) free(m->pages[i]);
            m->pages[i] = page;
            return;
        }
    }
}

static void pages_clear(page_map *m) {
    for (size_t i = 0; i < m->capacity; i++) free(m->pages[i]);
    free(m->keys);
    free(m->pages);
    memset(m, 0, sizeof(*m));
}

// Drops every page with index >= first (rebuilding the map: deletions in open addressing).
static void pages_drop_from(page_map *m, uint64_t first) {
    page_map kept = {0};
    for (size_t i = 0; i < m->capacity; i++) {
        if (!m->pages[i]) continue;
        if (m->keys[i] >= first) free(m->pages[i]);
        else pages_put(&kept, m->keys[i], m->pages[i]);
    }
    free(m->keys);
    free(m->pages);
    *m = kept;
}

static uint8_t *page_new(const uint8_t *from) {
    uint8_t *p = malloc(PAGE_BYTES);
    if (!p) { perror("powercut-fs: out of memory"); abort(); }
    if (from) memcpy(p, from, PAGE_BYTES);
    else memset(p, 0, PAGE_BYTES);
    return p;
}

// ---------------------------------------------------------------------------------------------------------
// Inodes. A file's live content is its dirty pages over its durable pages; durable pages at or past
// floor_page are hidden (the file was truncated below them since its last fsync).

typedef struct {
    char *name;
    uint64_t ino;
} entry;

typedef struct {
    entry *items;
    size_t count, capacity;
} entry_list;

typedef struct inode {
    uint64_t ino;
    mode_t mode;
    uid_t uid;
    gid_t gid;
    struct timespec atime, mtime, ctime;
    uint64_t lookups; // the kernel's references (lookup, forget)
    int opens;
    bool in_use;      // reachable or referenced; false: free slot
    // file
    page_map durable, dirty;
    uint64_t size, durable_size, floor_page;
    // directory
    entry_list live, kept; // kept: the durable entries
    uint64_t parent;
    // symlink
    char *target;
} inode;

static inode **g_inodes;
static size_t g_inode_count; // slots used (ino = index; 1 is the root)
static size_t g_inode_capacity;

static volatile sig_atomic_t s_lie_data; // SIGUSR2: from now on, --ignore-data-fsync

static struct {
    bool ignore_fsync;
    bool ignore_data_fsync, lie_announced;
    int delay_min_ms, delay_max_ms;
    bool tear;
    uint64_t tear_state;
    // the last write not yet made durable, for tearing
    uint64_t last_ino, last_offset, last_length;
    uint8_t *last_data;
    uint64_t generation;
    uint64_t dirty_writes; // since the last cut, writes that were never flushed (approximate: reset by fsyncs of their file)
} g;

static uint64_t next_random(void) {
    uint64_t x = g.tear_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return g.tear_state = x;
}

static void now(struct timespec *t) { clock_gettime(CLOCK_REALTIME, t); }

static inode *get(uint64_t ino) {
    if (ino == 0 || ino >= g_inode_count) return NULL;
    inode *n = g_inodes[ino];
    return n && n->in_use ? n : NULL;
}

static inode *inode_new(mode_t mode, uid_t uid, gid_t gid) {
    if (g_inode_count == g_inode_capacity) {
        g_inode_capacity = g_inode_capacity ? g_inode_capacity * 2 : 1024;
        g_inodes = realloc(g_inodes, g_inode_capacity * sizeof(inode *));
        if (!g_inodes) { perror("powercut-fs: out of memory"); abort(); }
    }
    inode *n = calloc(1, sizeof(inode));
    if (!n) { perror("powercut-fs: out of memory"); abort(); }
    n->ino = g_inode_count;
    g_inodes[g_inode_count++] = n;
    n->mode = mode;
    n->uid = uid;
    n->gid = gid;
    n->in_use = true;
    now(&n->atime);
    n->mtime = n->ctime = n->atime;
    return n;
}

static void entries_add(entry_list *l, const char *name, uint64_t ino) {
    if (l->count == l->capacity) {
        l->capacity = l->capacity ? l->capacity * 2 : 8;
        l->items = realloc(l->items, l->capacity * sizeof(entry));
        if (!l->items) { perror("powercut-fs: out of memory"); abort(); }
    }
    l->items[l->count].name = strdup(name);
    l->items[l->count].ino = ino;
    l->count++;
}

static entry *entries_find(entry_list *l, const char *name) {
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i].name, name) == 0) return &l->items[i];
    return NULL;
}

static void entries_remove(entry_list *l, entry *e) {
    free(e->name);
    size_t i = (size_t)(e - l->items);
    memmove(&l->items[i], &l->items[i + 1], (l->count - i - 1) * sizeof(entry));
    l->count--;
}

static void entries_clear(entry_list *l) {
    for (size_t i = 0; i < l->count; i++) free(l->items[i].name);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

static void entries_copy(entry_list *to, const entry_list *from) {
    entries_clear(to);
    for (size_t i = 0; i < from->count; i++) entries_add(to, from->items[i].name, from->items[i].ino);
}

static void fill_stat(const inode *n, struct stat *st) {
    memset(st, 0, sizeof(*st));
    st->st_ino = n->ino;
    st->st_mode = n->mode;
    st->st_nlink = S_ISDIR(n->mode) ? 2 : 1;
    st->st_uid = n->uid;
    st->st_gid = n->gid;
    st->st_size = S_ISDIR(n->mode) ? 4096 : S_ISLNK(n->mode) ? (off_t)strlen(n->target) : (off_t)n->size;
    st->st_blksize = PAGE_BYTES;
    st->st_blocks = (blkcnt_t)((n->dirty.count + n->durable.count) * (PAGE_BYTES / 512));
    st->st_atim = n->atime;
    st->st_mtim = n->mtime;
    st->st_ctim = n->ctime;
}

// The page as programs see it now (NULL: zeros).
static const uint8_t *live_page(const inode *n, uint64_t index) {
    const uint8_t *p = pages_get(&n->dirty, index);
    if (p) return p;
    if (index >= n->floor_page) return NULL;
    return pages_get(&n->durable, index);
}

static void file_write(inode *n, const char *data, size_t length, uint64_t offset) {
    for (size_t done = 0; done < length;) {
        uint64_t index = (offset + done) / PAGE_BYTES;
        size_t within = (size_t)((offset + done) % PAGE_BYTES);
        size_t chunk = PAGE_BYTES - within;
        if (chunk > length - done) chunk = length - done;
        uint8_t *page = pages_get(&n->dirty, index);
        if (!page) {
            page = page_new(live_page(n, index));
            pages_put(&n->dirty, index, page);
        }
        memcpy(page + within, data + done, chunk);
        done += chunk;
    }
    if (offset + length > n->size) n->size = offset + length;
}

static void file_truncate(inode *n, uint64_t size) {
    if (size < n->size) {
        uint64_t keep = (size + PAGE_BYTES - 1) / PAGE_BYTES; // pages [0, keep) survive
        pages_drop_from(&n->dirty, keep);
        if (keep < n->floor_page) n->floor_page = keep;
        if (size % PAGE_BYTES) { // the partial last page: its tail reads as zeros from now on
            uint64_t index = size / PAGE_BYTES;
            uint8_t *page = pages_get(&n->dirty, index);
            if (!page) {
                page = page_new(live_page(n, index));
                pages_put(&n->dirty, index, page);
            }
            memset(page + size % PAGE_BYTES, 0, PAGE_BYTES - size % PAGE_BYTES);
        }
    }
    n->size = size;
}

// Straight onto the durable state (a torn write at a cut).
static void durable_write(inode *n, const uint8_t *data, uint64_t length, uint64_t offset) {
    for (uint64_t done = 0; done < length;) {
        uint64_t index = (offset + done) / PAGE_BYTES;
        size_t within = (size_t)((offset + done) % PAGE_BYTES);
        size_t chunk = PAGE_BYTES - within;
        if (chunk > length - done) chunk = (size_t)(length - done);
        uint8_t *page = pages_get(&n->durable, index);
        if (!page) {
            page = page_new(NULL);
            pages_put(&n->durable, index, page);
        }
        memcpy(page + within, data + done, chunk);
        done += chunk;
    }
    if (length > 0 && offset + length > n->durable_size) n->durable_size = offset + length;
}

static bool lying_about_data(void) {
    if (!g.ignore_data_fsync && !s_lie_data) return false;
    if (!g.lie_announced) {
        g.lie_announced = true;
        printf("lying: fsync no longer makes file data durable (sizes, names and write-through writes still are)\n");
        fflush(stdout);
    }
    return true;
}

// The file's size (and any truncation since its last sync) becomes durable, not its data.
static void file_sync_size(inode *n) {
    if (n->floor_page < (n->durable_size + PAGE_BYTES - 1) / PAGE_BYTES) pages_drop_from(&n->durable, n->floor_page);
    n->durable_size = n->size;
    n->floor_page = UINT64_MAX;
}

// fsync: the file's live data and size become durable.
static void file_sync(inode *n) {
    if (g.ignore_fsync) return;
    if (lying_about_data()) { file_sync_size(n); return; } // the dirty pages stay dirty: lost at a cut
    if (n->floor_page < (n->durable_size + PAGE_BYTES - 1) / PAGE_BYTES) pages_drop_from(&n->durable, n->floor_page);
    for (size_t i = 0; i < n->dirty.capacity; i++) {
        if (!n->dirty.pages[i]) continue;
        pages_put(&n->durable, n->dirty.keys[i], n->dirty.pages[i]);
        n->dirty.pages[i] = NULL; // moved
    }
    n->dirty.count = 0;
    pages_clear(&n->dirty);
    n->durable_size = n->size;
    n->floor_page = UINT64_MAX;
    if (g.last_ino == n->ino) g.last_length = 0;
}

static void dir_sync(inode *n) {
    if (g.ignore_fsync) return;
    entries_copy(&n->kept, &n->live);
}

static void fsync_delay(void) {
    if (g.delay_max_ms <= 0) return;
    int ms = g.delay_min_ms + (int)(next_random() % (uint64_t)(g.delay_max_ms - g.delay_min_ms + 1));
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

// ---------------------------------------------------------------------------------------------------------
// The cut: what was not durable is gone.

static void mark_reachable(uint64_t ino, bool *reachable) {
    inode *n = get(ino);
    if (!n || reachable[ino]) return;
    reachable[ino] = true;
    if (S_ISDIR(n->mode))
        for (size_t i = 0; i < n->kept.count; i++) mark_reachable(n->kept.items[i].ino, reachable);
}

// A name for ino in the live tree (before a cut resets it), for the report: "dir/sub/name".
static void live_path(uint64_t ino, char *out, size_t size, int depth) {
    inode *n = get(ino);
    if (!n || ino == FUSE_ROOT_ID || depth > 16) { snprintf(out, size, "%s", ino == FUSE_ROOT_ID ? "" : "?"); return; }
    inode *parent = get(n->parent);
    const char *name = "?";
    if (parent)
        for (size_t i = 0; i < parent->live.count; i++)
            if (parent->live.items[i].ino == ino) { name = parent->live.items[i].name; break; }
    char above[512];
    live_path(n->parent, above, sizeof(above), depth + 1);
    above[200] = '\0';
    snprintf(out, size, "%.200s/%.255s", above, name); // cut short if deep
}

static void power_cut(void) {
    uint64_t torn = 0;
    inode *last = get(g.last_ino);
    if (g.tear && last && g.last_length > 0 && !g.ignore_fsync) {
        // A random sector-aligned prefix of the last unflushed write reached the disk.
        uint64_t sectors = (g.last_length + SECTOR_BYTES - 1) / SECTOR_BYTES;
        torn = (next_random() % (sectors + 1)) * SECTOR_BYTES;
        if (torn > g.last_length) torn = g.last_length;
        durable_write(last, g.last_data, torn, g.last_offset);
    }

    bool *reachable = calloc(g_inode_count, sizeof(bool));
    mark_reachable(FUSE_ROOT_ID, reachable);
    size_t dropped_pages = 0, lost_files = 0;
    char lost_names[1024] = "";
    for (size_t ino = 1; ino < g_inode_count; ino++) {
        inode *n = g_inodes[ino];
        if (!n || !n->in_use || reachable[ino] || strlen(lost_names) > 700) continue;
        char path[512];
        live_path(ino, path, sizeof(path), 0);
        if (path[strlen(path) - 1] == '?') continue; // unlinked before the cut: nothing of it was visible
        strncat(lost_names, " ", sizeof(lost_names) - strlen(lost_names) - 1);
        strncat(lost_names, path, sizeof(lost_names) - strlen(lost_names) - 1);
    }
    for (size_t ino = 1; ino < g_inode_count; ino++) {
        inode *n = g_inodes[ino];
        if (!n || !n->in_use) continue;
        dropped_pages += n->dirty.count;
        pages_clear(&n->dirty);
        n->size = n->durable_size;
        n->floor_page = UINT64_MAX;
        n->lookups = 0;
        n->opens = 0;
        if (S_ISDIR(n->mode)) entries_copy(&n->live, &n->kept);
        if (!reachable[ino]) {
            lost_files++;
            pages_clear(&n->durable);
            entries_clear(&n->live);
            entries_clear(&n->kept);
            free(n->target);
            n->in_use = false;
        }
    }
    free(reachable);
    printf("cut %llu: %zu unflushed pages dropped, %zu files and directories lost (of them named:%s), last write torn at %llu of %llu bytes\n",
           (unsigned long long)g.generation, dropped_pages, lost_files, lost_names[0] ? lost_names : " none", (unsigned long long)torn, (unsigned long long)g.last_length);
    fflush(stdout);
    g.last_length = 0;
}

// ---------------------------------------------------------------------------------------------------------
// FUSE operations.

static const double TIMEOUT_S = 1.0;

// The kernel's reference to n (counted until it forgets it).
static struct fuse_entry_param entry_of(inode *n) {
    struct fuse_entry_param e = {0};
    e.ino = n->ino;
    e.generation = 1;
    e.attr_timeout = TIMEOUT_S;
    e.entry_timeout = TIMEOUT_S;
    fill_stat(n, &e.attr);
    n->lookups++;
    return e;
}

static void reply_entry(fuse_req_t req, inode *n) {
    struct fuse_entry_param e = entry_of(n);
    fuse_reply_entry(req, &e);
}

static void op_init(void *userdata, struct fuse_conn_info *conn) {
    (void)userdata;
    conn->want &= ~FUSE_CAP_WRITEBACK_CACHE; // writes reach us at once; only fsync makes them durable
    conn->max_write = 1024 * 1024; // big writes (fuse3 always allows them; the kernel caps by max_pages)
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
    inode *dir = get(parent);
    if (!dir || !S_ISDIR(dir->mode)) { fuse_reply_err(req, ENOTDIR); return; }
    entry *e = entries_find(&dir->live, name);
    if (!e) {
        struct fuse_entry_param none = {0};
        none.entry_timeout = 0;
        fuse_reply_entry(req, &none); // negative entry, not cached
        return;
    }
    reply_entry(req, get(e->ino));
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
    inode *n = get(ino);
    if (n) n->lookups = n->lookups > nlookup ? n->lookups - nlookup : 0;
    fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets) {
    for (size_t i = 0; i < count; i++) {
        inode *n = get(forgets[i].ino);
        if (n) n->lookups = n->lookups > forgets[i].nlookup ? n->lookups - forgets[i].nlookup : 0;
    }
    fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    (void)fi;
    inode *n = get(ino);
    if (!n) { fuse_reply_err(req, ENOENT); return; }
    struct stat st;
    fill_stat(n, &st);
    fuse_reply_attr(req, &st, TIMEOUT_S);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi) {
    (void)fi;
    inode *n = get(ino);
    if (!n) { fuse_reply_err(req, ENOENT); return; }
    if (to_set & FUSE_SET_ATTR_MODE) n->mode = (n->mode & S_IFMT) | (attr->st_mode & 07777);
    if (to_set & FUSE_SET_ATTR_UID) n->uid = attr->st_uid;
    if (to_set & FUSE_SET_ATTR_GID) n->gid = attr->st_gid;
    if (to_set & FUSE_SET_ATTR_SIZE) {
        if (!S_ISREG(n->mode)) { fuse_reply_err(req, EINVAL); return; }
        file_truncate(n, (uint64_t)attr->st_size);
        now(&n->mtime);
    }
    if (to_set & FUSE_SET_ATTR_ATIME) n->atime = attr->st_atim;
    if (to_set & FUSE_SET_ATTR_MTIME) n->mtime = attr->st_mtim;
    if (to_set & FUSE_SET_ATTR_ATIME_NOW) now(&n->atime);
    if (to_set & FUSE_SET_ATTR_MTIME_NOW) now(&n->mtime);
    now(&n->ctime);
    struct stat st;
    fill_stat(n, &st);
    fuse_reply_attr(req, &st, TIMEOUT_S);
}

static inode *make(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) {
    inode *dir = get(parent);
    if (!dir || !S_ISDIR(dir->mode)) { fuse_reply_err(req, ENOTDIR); return NULL; }
    if (entries_find(&dir->live, name)) { fuse_reply_err(req, EEXIST); return NULL; }
    if (strlen(name) > 255) { fuse_reply_err(req, ENAMETOOLONG); return NULL; }
    const struct fuse_ctx *ctx = fuse_req_ctx(req);
    inode *n = inode_new(mode, ctx->uid, ctx->gid);
    n->floor_page = UINT64_MAX;
    n->parent = parent;
    entries_add(&dir->live, name, n->ino);
    now(&dir->mtime);
    dir->ctime = dir->mtime;
    return n;
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev) {
    (void)rdev;
    if (!S_ISREG(mode)) { fuse_reply_err(req, EPERM); return; }
    inode *n = make(req, parent, name, mode);
    if (n) reply_entry(req, n);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) {
    inode *n = make(req, parent, name, S_IFDIR | (mode & 07777));
    if (n) reply_entry(req, n);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name) {
    inode *n = make(req, parent, name, S_IFLNK | 0777);
    if (!n) return;
    n->target = strdup(link);
    reply_entry(req, n);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino) {
    inode *n = get(ino);
    if (!n || !S_ISLNK(n->mode)) { fuse_reply_err(req, EINVAL); return; }
    fuse_reply_readlink(req, n->target);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi) {
    inode *n = make(req, parent, name, S_IFREG | (mode & 07777));
    if (!n) return;
    n->opens++;
    struct fuse_entry_param e = entry_of(n);
    fi->keep_cache = 0;
    fuse_reply_create(req, &e, fi);
}

static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name, bool directory) {
    inode *dir = get(parent);
    if (!dir || !S_ISDIR(dir->mode)) { fuse_reply_err(req, ENOTDIR); return; }
    entry *e = entries_find(&dir->live, name);
    if (!e) { fuse_reply_err(req, ENOENT); return; }
    inode *n = get(e->ino);
    if (directory && !S_ISDIR(n->mode)) { fuse_reply_err(req, ENOTDIR); return; }
    if (!directory && S_ISDIR(n->mode)) { fuse_reply_err(req, EISDIR); return; }
    if (directory && n->live.count > 0) { fuse_reply_err(req, ENOTEMPTY); return; }
    entries_remove(&dir->live, e);
    now(&dir->mtime);
    dir->ctime = dir->mtime;
    // The inode stays: the durable state may still name it, and open files still read it.
    fuse_reply_err(req, 0);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name) { remove_entry(req, parent, name, false); }

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name) { remove_entry(req, parent, name, true); }

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname, unsigned int flags) {
    inode *from = get(parent), *to = get(newparent);
    if (!from || !to) { fuse_reply_err(req, ENOENT); return; }
    if (flags & ~RENAME_NOREPLACE) { fuse_reply_err(req, EINVAL); return; }
    entry *e = entries_find(&from->live, name);
    if (!e) { fuse_reply_err(req, ENOENT); return; }
    uint64_t ino = e->ino;
    entry *existing = entries_find(&to->live, newname);
    if (existing) {
        if (existing->ino == ino) { fuse_reply_err(req, 0); return; }
        if (flags & RENAME_NOREPLACE) { fuse_reply_err(req, EEXIST); return; }
        inode *victim = get(existing->ino);
        if (S_ISDIR(victim->mode) && victim->live.count > 0) { fuse_reply_err(req, ENOTEMPTY); return; }
        entries_remove(&to->live, existing);
        e = entries_find(&from->live, name); // the list may have moved
    }
    entries_remove(&from->live, e);
    entries_add(&to->live, newname, ino);
    get(ino)->parent = newparent;
    now(&from->mtime);
    to->mtime = from->mtime;
    fuse_reply_err(req, 0);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname) {
    inode *n = get(ino), *dir = get(newparent);
    if (!n || !dir) { fuse_reply_err(req, ENOENT); return; }
    if (S_ISDIR(n->mode)) { fuse_reply_err(req, EPERM); return; }
    if (entries_find(&dir->live, newname)) { fuse_reply_err(req, EEXIST); return; }
    entries_add(&dir->live, newname, ino);
    reply_entry(req, n);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    inode *n = get(ino);
    if (!n) { fuse_reply_err(req, ENOENT); return; }
    if (S_ISDIR(n->mode)) { fuse_reply_err(req, EISDIR); return; }
    if ((fi->flags & O_TRUNC) && (fi->flags & O_ACCMODE) != O_RDONLY) file_truncate(n, 0);
    n->opens++;
    fi->keep_cache = 0;
    fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, struct fuse_file_info *fi) {
    (void)fi;
    inode *n = get(ino);
    if (!n) { fuse_reply_err(req, ENOENT); return; }
    if ((uint64_t)offset >= n->size) { fuse_reply_buf(req, NULL, 0); return; }
    if ((uint64_t)offset + size > n->size) size = (size_t)(n->size - (uint64_t)offset);
    char *buffer = malloc(size ? size : 1);
    for (size_t done = 0; done < size;) {
        uint64_t index = ((uint64_t)offset + done) / PAGE_BYTES;
        size_t within = (size_t)(((uint64_t)offset + done) % PAGE_BYTES);
        size_t chunk = PAGE_BYTES - within;
        if (chunk > size - done) chunk = size - done;
        const uint8_t *page = live_page(n, index);
        if (page) memcpy(buffer + done, page + within, chunk);
        else memset(buffer + done, 0, chunk);
        done += chunk;
    }
    fuse_reply_buf(req, buffer, size);
    free(buffer);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *data, size_t size, off_t offset, struct fuse_file_info *fi) {
    inode *n = get(ino);
    if (!n) { fuse_reply_err(req, ENOENT); return; }
    if (fi->flags & O_APPEND) offset = (off_t)n->size;
    file_write(n, data, size, (uint64_t)offset);
    now(&n->mtime);
    if (fi->flags & (O_SYNC | O_DSYNC)) {
        fsync_delay();
        if (!g.ignore_fsync && lying_about_data()) {
            // A lying card still honours write-through: this write (not the file's others) is durable.
            file_sync_size(n);
            durable_write(n, (const uint8_t *)data, size, (uint64_t)offset);
        } else {
            file_sync(n);
        }
    } else {
        // Remember it for tearing: the most recent write the disk may have been in the middle of.
        free(g.last_data);
        g.last_data = malloc(size ? size : 1);
        memcpy(g.last_data, data, size);
        g.last_ino = ino;
        g.last_offset = (uint64_t)offset;
        g.last_length = size;
    }
    fuse_reply_write(req, size);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    (void)ino;
    (void)fi;
    fuse_reply_err(req, 0); // close(2) is not fsync(2)
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    (void)fi;
    inode *n = get(ino);
    if (n && n->opens > 0) n->opens--;
    fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
    (void)datasync;
    (void)fi;
    inode *n = get(ino);
    if (!n) { fuse_reply_err(req, ENOENT); return; }
    fsync_delay();
    if (S_ISDIR(n->mode)) dir_sync(n);
    else file_sync(n);
    fuse_reply_err(req, 0);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    inode *n = get(ino);
    if (!n) { fuse_reply_err(req, ENOENT); return; }
    if (!S_ISDIR(n->mode)) { fuse_reply_err(req, ENOTDIR); return; }
    fuse_reply_open(req, fi);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, struct fuse_file_info *fi) {
    (void)fi;
    inode *n = get(ino);
    if (!n) { fuse_reply_err(req, ENOENT); return; }
    char *buffer = malloc(size);
    size_t used = 0;
    // Offsets: 1 ".", 2 "..", 3 + i the i-th entry.
    for (off_t at = offset; ; at++) {
        const char *name;
        struct stat st = {0};
        if (at == 0) { name = "."; st.st_ino = n->ino; st.st_mode = S_IFDIR; }
        else if (at == 1) { name = ".."; st.st_ino = n->parent ? n->parent : n->ino; st.st_mode = S_IFDIR; }
        else if ((size_t)(at - 2) < n->live.count) {
            entry *e = &n->live.items[at - 2];
            inode *child = get(e->ino);
            name = e->name;
            st.st_ino = e->ino;
            st.st_mode = child ? child->mode : S_IFREG;
        } else break;
        size_t need = fuse_add_direntry(req, buffer + used, size - used, name, &st, at + 1);
        if (need > size - used) break;
        used += need;
    }
    fuse_reply_buf(req, buffer, used);
    free(buffer);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    (void)ino;
    (void)fi;
    fuse_reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
    op_fsync(req, ino, datasync, fi);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino) {
    (void)ino;
    struct statvfs st = {0};
    st.f_bsize = PAGE_BYTES;
    st.f_frsize = PAGE_BYTES;
    st.f_blocks = 1u << 24; // 64 GiB
    st.f_bfree = st.f_bavail = 1u << 23;
    st.f_files = st.f_ffree = st.f_favail = 1u << 20;
    st.f_namemax = 255;
    fuse_reply_statfs(req, &st);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length, struct fuse_file_info *fi) {
    (void)fi;
    inode *n = get(ino);
    if (!n) { fuse_reply_err(req, ENOENT); return; }
    if (mode != 0) { fuse_reply_err(req, EOPNOTSUPP); return; }
    if ((uint64_t)(offset + length) > n->size) n->size = (uint64_t)(offset + length);
    fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops s_ops = {
    .init = op_init,
    .lookup = op_lookup,
    .forget = op_forget,
    .forget_multi = op_forget_multi,
    .getattr = op_getattr,
    .setattr = op_setattr,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .symlink = op_symlink,
    .readlink = op_readlink,
    .create = op_create,
    .unlink = op_unlink,
    .rmdir = op_rmdir,
    .rename = op_rename,
    .link = op_link,
    .open = op_open,
    .read = op_read,
    .write = op_write,
    .flush = op_flush,
    .release = op_release,
    .fsync = op_fsync,
    .opendir = op_opendir,
    .readdir = op_readdir,
    .releasedir = op_releasedir,
    .fsyncdir = op_fsyncdir,
    .statfs = op_statfs,
    .fallocate = op_fallocate,
};

// ---------------------------------------------------------------------------------------------------------

static volatile sig_atomic_t s_stop;
static volatile sig_atomic_t s_cut;
static struct fuse_session *s_session;

static void on_signal(int signal) {
    if (signal == SIGUSR2) { s_lie_data = 1; return; } // the loop goes on (it retries an interrupted read)
    if (signal == SIGUSR1) s_cut = 1;
    else s_stop = 1;
    if (s_session) fuse_session_exit(s_session);
}

static int usage(const char *why) {
    fprintf(stderr, "powercut-fs: %s\nusage: powercut-fs MOUNTPOINT [--fsync-delay-ms MIN-MAX] [--ignore-fsync | --ignore-data-fsync] [--tear-seed N]\n", why);
    return 2;
}

int main(int argc, char **argv) {
    const char *mountpoint = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--ignore-fsync") == 0) g.ignore_fsync = true;
        else if (strcmp(argv[i], "--ignore-data-fsync") == 0) g.ignore_data_fsync = true;
        else if (strcmp(argv[i], "--fsync-delay-ms") == 0 && i + 1 < argc) {
            if (sscanf(argv[++i], "%d-%d", &g.delay_min_ms, &g.delay_max_ms) != 2 || g.delay_min_ms < 0 || g.delay_max_ms < g.delay_min_ms || g.delay_max_ms > 10000)
                return usage("--fsync-delay-ms wants MIN-MAX milliseconds, e.g. 5-20");
        } else if (strcmp(argv[i], "--tear-seed") == 0 && i + 1 < argc) {
            g.tear = true;
            g.tear_state = strtoull(argv[++i], NULL, 10) * 2654435761u + 1;
        } else if (argv[i][0] == '-' || mountpoint) return usage("unexpected argument");
        else mountpoint = argv[i];
    }
    if (!mountpoint) return usage("no mount point");
    if (g.tear_state == 0) g.tear_state = 88172645463325252ull;

    inode_new(0, 0, 0)->in_use = false; // ino 0 is never an inode
    inode *root = inode_new(S_IFDIR | 0755, getuid(), getgid());
    if (root->ino != FUSE_ROOT_ID) return usage("internal: the root is not inode 1");
    root->floor_page = UINT64_MAX;

    struct sigaction action = {0};
    action.sa_handler = on_signal; // no SA_RESTART: the loop's read(2) returns and sees the exit
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGUSR1, &action, NULL);
    sigaction(SIGUSR2, &action, NULL);

    char *fuse_argv[] = {argv[0], "-o", "allow_other,default_permissions,fsname=powercut-fs,subtype=powercut", NULL};
    struct fuse_args args = FUSE_ARGS_INIT(3, fuse_argv);
    while (!s_stop) {
        s_session = fuse_session_new(&args, &s_ops, sizeof(s_ops), NULL);
        if (!s_session || fuse_session_mount(s_session, mountpoint) != 0) {
            fprintf(stderr, "powercut-fs: cannot mount at %s\n", mountpoint);
            return 1;
        }
        g.generation++;
        printf("mounted %llu\n", (unsigned long long)g.generation);
        fflush(stdout);
        fuse_session_loop(s_session);
        bool stopping = s_stop;
        if (stopping || s_cut) fuse_session_unmount(s_session); // a lazy detach: nothing may use it by now
        fuse_session_destroy(s_session); // closes /dev/fuse: the kernel connection is aborted everywhere
        s_session = NULL;
        s_cut = 0;
        if (stopping) break;
        power_cut(); // SIGUSR1 or unmounted from outside: the power went out
    }
    return 0;
}
