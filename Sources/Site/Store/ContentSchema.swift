/// The SQL schema of `site.db`, version 1. docs/data-format.md reproduces it for other tools; keep both equal
/// (a test compares them).
///
/// Every table is `STRICT`, so a value of the wrong type is an error rather than silently stored. The
/// constraints repeat `ContentRules`; `DataPackageCheck` verifies the same rules again on any package, since
/// another tool may have written a weaker schema.
public enum ContentSchema {
    /// The `PRAGMA user_version` of a package in this format; `ContentStore.schemaVersion` is the same value.
    public static let version: Int32 = 1

    /// `CREATE` statements, in dependency order. Named constraints make SQLite's refusal say which rule
    /// broke ("CHECK constraint failed: published_is_date").
    ///
    /// Slugs: `<> ''` and the four GLOBs spell `^[a-z0-9]+(-[a-z0-9]+)*$`. Dates: the GLOB fixes the shape and
    /// `date(x, '+0 days') IS x` the calendar (SQLite normalises 2023-02-30 to 2023-03-02 once a modifier is
    /// applied; without one it echoes the text back).
    public static let sql = """
        CREATE TABLE languages (
            lang            TEXT    NOT NULL PRIMARY KEY,
            position        INTEGER NOT NULL UNIQUE,
            title           TEXT    NOT NULL,
            description     TEXT    NOT NULL,
            tagline         TEXT    NOT NULL,
            author_tagline  TEXT    NOT NULL,
            CONSTRAINT lang_is_code CHECK (lang GLOB '[a-z][a-z]'),
            CONSTRAINT position_is_natural CHECK (position >= 0),
            CONSTRAINT texts_are_present CHECK (title <> '' AND description <> '' AND author_tagline <> '')
        ) STRICT;

        CREATE TABLE settings (
            key             TEXT    NOT NULL PRIMARY KEY,
            value           TEXT    NOT NULL,
            CONSTRAINT key_is_present CHECK (key <> '')
        ) STRICT;

        CREATE TABLE articles (
            translation_key TEXT    NOT NULL PRIMARY KEY,
            published       TEXT    NOT NULL,
            image           TEXT,
            CONSTRAINT translation_key_is_slug CHECK (translation_key <> ''
                AND translation_key NOT GLOB '*[^a-z0-9-]*' AND translation_key NOT GLOB '-*'
                AND translation_key NOT GLOB '*-' AND translation_key NOT GLOB '*--*'),
            CONSTRAINT published_is_date CHECK (published GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'
                AND date(published, '+0 days') IS published),
            CONSTRAINT image_is_file_name CHECK (image IS NULL OR (image <> '' AND length(image) <= 128
                AND image NOT GLOB '*[^a-z0-9._-]*' AND image NOT GLOB '.*'))
        ) STRICT;

        CREATE TABLE translations (
            translation_key TEXT    NOT NULL REFERENCES articles (translation_key),
            lang            TEXT    NOT NULL REFERENCES languages (lang),
            slug            TEXT    NOT NULL,
            title           TEXT    NOT NULL,
            description     TEXT    NOT NULL,
            updated         TEXT    NOT NULL,
            reading_minutes INTEGER NOT NULL,
            body_file       TEXT    NOT NULL,
            PRIMARY KEY (translation_key, lang),
            UNIQUE (lang, slug),
            CONSTRAINT slug_is_slug CHECK (slug <> '' AND slug NOT GLOB '*[^a-z0-9-]*'
                AND slug NOT GLOB '-*' AND slug NOT GLOB '*-' AND slug NOT GLOB '*--*'),
            CONSTRAINT texts_are_present CHECK (title <> '' AND description <> ''),
            CONSTRAINT updated_is_date CHECK (updated GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'
                AND date(updated, '+0 days') IS updated),
            CONSTRAINT reading_minutes_is_positive CHECK (reading_minutes >= 1),
            CONSTRAINT body_file_is_lang_slug CHECK (body_file = lang || '/' || slug || '.html')
        ) STRICT;

        CREATE TABLE tags (
            key             TEXT    NOT NULL PRIMARY KEY,
            CONSTRAINT key_is_slug CHECK (key <> '' AND key NOT GLOB '*[^a-z0-9-]*'
                AND key NOT GLOB '-*' AND key NOT GLOB '*-' AND key NOT GLOB '*--*')
        ) STRICT;

        CREATE TABLE tag_names (
            tag_key         TEXT    NOT NULL REFERENCES tags (key),
            lang            TEXT    NOT NULL REFERENCES languages (lang),
            name            TEXT    NOT NULL,
            slug            TEXT    NOT NULL,
            PRIMARY KEY (tag_key, lang),
            UNIQUE (lang, slug),
            CONSTRAINT name_is_present CHECK (name <> ''),
            CONSTRAINT slug_is_slug CHECK (slug <> '' AND slug NOT GLOB '*[^a-z0-9-]*'
                AND slug NOT GLOB '-*' AND slug NOT GLOB '*-' AND slug NOT GLOB '*--*')
        ) STRICT;

        CREATE TABLE article_tags (
            translation_key TEXT    NOT NULL,
            lang            TEXT    NOT NULL,
            tag_key         TEXT    NOT NULL,
            PRIMARY KEY (translation_key, lang, tag_key),
            FOREIGN KEY (translation_key, lang) REFERENCES translations (translation_key, lang),
            FOREIGN KEY (tag_key, lang) REFERENCES tag_names (tag_key, lang)
        ) STRICT, WITHOUT ROWID;

        CREATE VIRTUAL TABLE search USING fts5 (
            translation_key UNINDEXED,
            lang UNINDEXED,
            title,
            description,
            body,
            tokenize = 'unicode61 remove_diacritics 2'
        );
        """
}
