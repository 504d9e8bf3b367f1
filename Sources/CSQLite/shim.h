#ifndef MYWEBSITE_CSQLITE_H
#define MYWEBSITE_CSQLITE_H
#include <sqlite3.h>

// SQLITE_TRANSIENT is `((sqlite3_destructor_type)-1)`, a cast Swift cannot import: SQLite copies the text
// before returning, so the Swift buffer only has to live for the call. A zero-length text gets a static ""
// because a NULL pointer would bind SQL NULL instead of the empty string.
static inline int mywebsite_sqlite3_bind_text_transient(sqlite3_stmt *statement, int index, const void *text,
                                                        int byteCount) {
    if (byteCount == 0 || text == 0) {
        return sqlite3_bind_text(statement, index, "", 0, SQLITE_STATIC);
    }
    return sqlite3_bind_text(statement, index, (const char *)text, byteCount, SQLITE_TRANSIENT);
}

#endif
