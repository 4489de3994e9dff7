-- A dashboard-scale dataset for timing the dashboards on PostgreSQL (see docs/dashboards.md):
-- 100,000 customers, 20 agents, 5 teams, 300,000 tickets opened over the last 180 days (as the
-- benchmark's scale m), and 100,000 answered CSAT surveys. Run it on an empty, migrated database
-- of your own:  psql "$DATABASE_URL" -f docs/dashboards_scale.sql
BEGIN;
SELECT setseed(0.42);

INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
SELECT '!', false, 'scale-agent-' || g, 'Agent', g::text, '', false, true, now() FROM generate_series(1, 20) g;

INSERT INTO tickets_team (name) SELECT 'Scale team ' || g FROM generate_series(1, 5) g;

INSERT INTO customers_customer (public_id, first_name, last_name, preferred_name, locale, timezone, country,
    created_at, updated_at, lifetime_value, order_count, churn_factors, erased, legal_hold)
SELECT gen_random_uuid(), 'Customer', g::text, '', 'en', 'UTC', '', now(), now(), 0, 0, '{}', false, false
FROM generate_series(1, 100000) g;

CREATE TEMP TABLE scale_ids AS
SELECT (SELECT min(id) FROM customers_customer) AS customer0,
       (SELECT min(id) FROM auth_user WHERE username LIKE 'scale-agent-%') AS agent0,
       (SELECT min(id) FROM tickets_team WHERE name LIKE 'Scale team %') AS team0;

INSERT INTO tickets_ticket (customer_id, subject, status, priority, channel, assignee_id, team_id, created_at,
    updated_at, last_message_at, first_response_at, solved_at, solved_by_id, first_response_due_at,
    resolution_due_at)
SELECT customer0 + (g % 100000), 'Scale ticket ' || g, status, 'normal',
       (ARRAY['email', 'email', 'chat', 'chat', 'phone', 'social', 'web'])[1 + g % 7],
       CASE WHEN g % 10 = 0 THEN NULL ELSE agent0 + (g * 7) % 20 END,
       CASE WHEN g % 13 = 0 THEN NULL ELSE team0 + g % 5 END,
       created, created, created,
       CASE WHEN status <> 'new' THEN created + (5 + floor(random() * 596)) * interval '1 minute' END,
       CASE WHEN status IN ('solved', 'closed') THEN created + (1 + floor(random() * 96)) * interval '1 hour' END,
       CASE WHEN status IN ('solved', 'closed') THEN agent0 + (g * 7) % 20 END,
       created + interval '4 hours', created + interval '24 hours'
FROM (
    SELECT g, scale_ids.*,
           now() - random() * interval '180 days' AS created,
           (ARRAY['new', 'open', 'open', 'pending', 'solved', 'solved', 'solved', 'closed'])[1 + (g * 31) % 8] AS status
    FROM generate_series(1, 300000) g, scale_ids
) t;

INSERT INTO tickets_csatsurvey (ticket_id, agent_id, team_id, channel, created_at, sent_at, expires_at, answered_at,
    rating, comment)
SELECT id, solved_by_id, team_id, channel, solved_at + interval '24 hours', solved_at + interval '24 hours',
       solved_at + interval '29 days', solved_at + interval '24 hours' + (1 + floor(random() * 72)) * interval '1 hour',
       1 + floor(random() * 5)::int, CASE WHEN random() < 0.3 THEN 'Scale comment' ELSE '' END
FROM tickets_ticket WHERE solved_at IS NOT NULL AND subject LIKE 'Scale ticket %'
ORDER BY id LIMIT 100000;
COMMIT;
VACUUM ANALYZE;
