-- The social API and news feed of a tenant's end users (issue 17, sections 2 and 3). User ids are
-- account_users ids; every row carries tenant_id and every query is scoped by it.
CREATE TABLE social_profiles (
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  display_name TEXT,
  bio TEXT,
  followers_count INTEGER NOT NULL DEFAULT 0,
  following_count INTEGER NOT NULL DEFAULT 0,
  posts_count INTEGER NOT NULL DEFAULT 0,
  -- Last home-timeline read or post: fan-out skips users inactive for 30 days; their feed is rebuilt.
  last_active_at INTEGER NOT NULL,
  -- Until when a home-timeline SSE stream may be open (FeedStream object): fan-out notifies only these.
  stream_until INTEGER,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, user_id)
);

CREATE TABLE social_follows (
  tenant_id TEXT NOT NULL,
  follower_id TEXT NOT NULL,
  followee_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, follower_id, followee_id)
);
CREATE INDEX social_follows_followee ON social_follows(tenant_id, followee_id, created_at, follower_id);
CREATE INDEX social_follows_follower ON social_follows(tenant_id, follower_id, created_at, followee_id);

CREATE TABLE social_posts (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  author_id TEXT NOT NULL,
  body TEXT NOT NULL,
  like_count INTEGER NOT NULL DEFAULT 0,
  comment_count INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX social_posts_author ON social_posts(tenant_id, author_id, created_at, id);

CREATE TABLE social_likes (
  tenant_id TEXT NOT NULL,
  post_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (post_id, user_id)
);
CREATE INDEX social_likes_post ON social_likes(post_id, created_at, user_id);

CREATE TABLE social_comments (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  post_id TEXT NOT NULL,
  author_id TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX social_comments_post ON social_comments(post_id, created_at, id);

-- A reader's interactions with an author (likes +1, comments +1): the ranking's affinity term.
CREATE TABLE social_affinity (
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  author_id TEXT NOT NULL,
  score INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, user_id, author_id)
);

-- Per-user feed rows written by fan-out (queues/feed.ts), capped at feed_cap entries per user.
CREATE TABLE social_feed (
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  post_id TEXT NOT NULL,
  author_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, user_id, post_id)
);
CREATE INDEX social_feed_user ON social_feed(tenant_id, user_id, created_at, post_id);
CREATE INDEX social_feed_created ON social_feed(created_at);

-- Per-tenant feed settings (PUT /api/v1/social/settings); defaults in src/social/domain.ts.
CREATE TABLE social_settings (
  tenant_id TEXT PRIMARY KEY,
  settings_json TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
