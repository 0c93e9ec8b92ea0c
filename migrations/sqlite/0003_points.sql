-- Points (点位), their types, grids (网格), the standard ledger and the responsibility ledger's tasks.

CREATE TABLE point_types (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    seq INTEGER NOT NULL,
    color TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE grids (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    community_id TEXT REFERENCES org_nodes(id),
    unit_id TEXT REFERENCES units(id),
    worker_id TEXT REFERENCES users(id),
    geometry TEXT NOT NULL,
    min_lng REAL NOT NULL,
    min_lat REAL NOT NULL,
    max_lng REAL NOT NULL,
    max_lat REAL NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX grids_community ON grids(community_id);

CREATE TABLE points (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    type_id TEXT NOT NULL REFERENCES point_types(id),
    fixed INTEGER NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    lng REAL,
    lat REAL,
    community_id TEXT REFERENCES org_nodes(id),
    grid_id TEXT REFERENCES grids(id),
    unit_id TEXT NOT NULL REFERENCES units(id),
    lead_name TEXT NOT NULL,
    lead_phone TEXT NOT NULL,
    backup_name TEXT NOT NULL DEFAULT '',
    backup_phone TEXT NOT NULL DEFAULT '',
    guarantor_name TEXT NOT NULL DEFAULT '',
    guarantor_phone TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1,
    note TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX points_unit ON points(unit_id);
CREATE INDEX points_type ON points(type_id);
CREATE INDEX points_community ON points(community_id);
CREATE INDEX points_grid ON points(grid_id);

-- The national evaluation point types (configurable afterwards).
INSERT INTO point_types (id, code, name, seq, color, created_at, updated_at) VALUES
    ('00000000-0000-7000-8001-000000000001', 'main_road', '主次干道', 1, '#d62728', 0, 0),
    ('00000000-0000-7000-8001-000000000002', 'back_street', '背街小巷', 2, '#ff7f0e', 0, 0),
    ('00000000-0000-7000-8001-000000000003', 'compound', '居民小区', 3, '#2ca02c', 0, 0),
    ('00000000-0000-7000-8001-000000000004', 'market', '农贸市场/集贸市场', 4, '#8c564b', 0, 0),
    ('00000000-0000-7000-8001-000000000005', 'mall', '商场超市', 5, '#e377c2', 0, 0),
    ('00000000-0000-7000-8001-000000000006', 'bank', '银行营业网点', 6, '#1f77b4', 0, 0),
    ('00000000-0000-7000-8001-000000000007', 'service_hall', '政务服务大厅', 7, '#17becf', 0, 0),
    ('00000000-0000-7000-8001-000000000008', 'hospital', '医院', 8, '#9467bd', 0, 0),
    ('00000000-0000-7000-8001-000000000009', 'school', '学校及周边', 9, '#bcbd22', 0, 0),
    ('00000000-0000-7000-8001-000000000010', 'park', '公园广场', 10, '#98df8a', 0, 0),
    ('00000000-0000-7000-8001-000000000011', 'bus_stop', '公交站台', 11, '#aec7e8', 0, 0),
    ('00000000-0000-7000-8001-000000000012', 'construction', '建筑工地', 12, '#7f7f7f', 0, 0),
    ('00000000-0000-7000-8001-000000000013', 'shop_front', '沿街门店', 13, '#ffbb78', 0, 0),
    ('00000000-0000-7000-8001-000000000014', 'village', '村庄', 14, '#c5b0d5', 0, 0),
    ('00000000-0000-7000-8001-000000000015', 'toilet', '公共厕所', 15, '#c49c94', 0, 0),
    ('00000000-0000-7000-8001-000000000016', 'station', '车站', 16, '#f7b6d2', 0, 0),
    ('00000000-0000-7000-8001-000000000017', 'intersection', '交通路口', 17, '#ff9896', 0, 0),
    ('00000000-0000-7000-8001-000000000018', 'transfer_station', '垃圾中转站', 18, '#dbdb8d', 0, 0),
    ('00000000-0000-7000-8001-000000000019', 'business_hall', '营业厅', 19, '#9edae5', 0, 0),
    ('00000000-0000-7000-8001-000000000020', 'culture', '文化场馆', 20, '#393b79', 0, 0);
