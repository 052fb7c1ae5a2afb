// Frozen in time: never import application code here, never edit after it has shipped.
import { type Kysely, sql } from "kysely";

/**
 * Teams: users (and service accounts), groups, grants of roles, keys that
 * belong to a user, and the audit log. An installation from before has one
 * organisation with keys that could do everything: each organisation gets a
 * user "admin" who owns it and holds its existing keys, and the first
 * organisation's admin is the instance administrator, as the first key
 * printed on first start now is.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create unique index organizations_name on organizations (lower(name))`.execute(db);

  await db.schema
    .createTable("users")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull().references("organizations.id"))
    .addColumn("user_name", "text", (c) => c.notNull())
    .addColumn("display_name", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("email", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("active", "boolean", (c) => c.notNull().defaultTo(true))
    .addColumn("service_account", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("instance_admin", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("external_id", "text", (c) => c.notNull().defaultTo(""))
    // What an identity provider said of the user beyond our columns (name, emails…), given back as it came.
    .addColumn("scim_attributes", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    // SCIM's DELETE: the row stays for the keys and audit events that name it, but nothing finds it.
    .addColumn("deleted_at", "timestamptz")
    .execute();
  // User names are unique in an organisation whatever their case, as SCIM's userName is; a deleted user's name is free again.
  await sql`create unique index users_org_user_name on users (org_id, lower(user_name)) where deleted_at is null`.execute(db);

  await db.schema
    .createTable("groups")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull().references("organizations.id"))
    .addColumn("display_name", "text", (c) => c.notNull())
    .addColumn("external_id", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create unique index groups_org_display_name on groups (org_id, lower(display_name))`.execute(db);

  await db.schema
    .createTable("group_members")
    .addColumn("group_id", "text", (c) => c.notNull().references("groups.id").onDelete("cascade"))
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("org_id", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("group_members_pk", ["group_id", "user_id"])
    .execute();
  await db.schema.createIndex("group_members_user").on("group_members").columns(["user_id"]).execute();

  await db.schema
    .createTable("grants")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull().references("organizations.id"))
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("user_id", "text", (c) => c.references("users.id").onDelete("cascade"))
    .addColumn("group_id", "text", (c) => c.references("groups.id").onDelete("cascade"))
    .addColumn("project_id", "text", (c) => c.references("projects.id"))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint("grants_one_principal", sql`(user_id is null) <> (group_id is null)`)
    .addCheckConstraint("grants_role", sql`role in ('viewer', 'editor', 'maintainer', 'owner')`)
    .execute();
  await sql`create unique index grants_unique on grants (org_id, coalesce(user_id, ''), coalesce(group_id, ''), coalesce(project_id, ''), role)`.execute(db);
  await db.schema.createIndex("grants_user").on("grants").columns(["user_id"]).execute();
  await db.schema.createIndex("grants_group").on("grants").columns(["group_id"]).execute();

  await db.schema
    .alterTable("api_keys")
    .addColumn("user_id", "text", (c) => c.references("users.id"))
    .addColumn("scope", "text", (c) => c.notNull().defaultTo("all"))
    .addColumn("project_id", "text", (c) => c.references("projects.id"))
    .addColumn("prefix", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("expires_at", "timestamptz")
    .addColumn("last_used_at", "timestamptz")
    .execute();
  await db.schema.createIndex("api_keys_user").on("api_keys").columns(["user_id"]).execute();

  await db.schema
    .createTable("audit_events")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text")
    .addColumn("at", "timestamptz", (c) => c.notNull())
    .addColumn("user_id", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("key_id", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("method", "text", (c) => c.notNull())
    .addColumn("resource", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("source", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("outcome", "text", (c) => c.notNull())
    .addColumn("request_id", "text", (c) => c.notNull().defaultTo(""))
    .execute();
  await db.schema.createIndex("audit_events_org_at").on("audit_events").columns(["org_id", "at", "id"]).execute();

  // Every existing organisation gets an owner "admin" who holds its keys.
  const orgs = await db.selectFrom("organizations").select(["id"]).orderBy("created_at").orderBy("id").execute();
  for (const [i, org] of orgs.entries()) {
    const userId = `u_${org.id.replace(/^org_/, "")}`;
    await db
      .insertInto("users")
      .values({ id: userId, org_id: org.id, user_name: "admin", display_name: "Administrator", instance_admin: i === 0 })
      .execute();
    await db.insertInto("grants").values({ id: `gr_${org.id.replace(/^org_/, "")}`, org_id: org.id, role: "owner", user_id: userId }).execute();
    await db.updateTable("api_keys").set({ user_id: userId }).where("org_id", "=", org.id).execute();
  }
  await db.schema.alterTable("api_keys").alterColumn("user_id", (c) => c.setNotNull()).execute();
}
