-- The dashboard language a user chose ('en', 'zh'); NULL: follow the
-- browser's Accept-Language.
ALTER TABLE users ADD COLUMN language TEXT;
