#ifndef MYWEBSITE_CSQLITE_H
#define MYWEBSITE_CSQLITE_H
#include <sqlite3.h>
#endif
