from django.db import migrations

from oneforone.core.db import append_only

FROZEN = """
CREATE FUNCTION impact_refuse_published_change() RETURNS trigger AS $$
DECLARE
    version_id bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        version_id := OLD.version_id;
    ELSE
        version_id := NEW.version_id;
    END IF;
    IF EXISTS (SELECT 1 FROM impact_methodologyversion v
               WHERE v.status = 'published'
                 AND (v.id = version_id OR (TG_OP = 'UPDATE' AND v.id = OLD.version_id))) THEN
        RAISE EXCEPTION 'methodology version % is published: its factors and rules are frozen; '
            'draft a new version to change them', version_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER impact_factor_frozen BEFORE INSERT OR UPDATE OR DELETE ON impact_factor
FOR EACH ROW EXECUTE FUNCTION impact_refuse_published_change();
CREATE TRIGGER impact_rule_frozen BEFORE INSERT OR UPDATE OR DELETE ON impact_rule
FOR EACH ROW EXECUTE FUNCTION impact_refuse_published_change();

CREATE FUNCTION impact_refuse_published_version_change() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'published' THEN
        RAISE EXCEPTION 'methodology version % (%) is published and cannot be changed or deleted',
            OLD.number, OLD.label USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER impact_version_frozen BEFORE UPDATE OR DELETE ON impact_methodologyversion
FOR EACH ROW EXECUTE FUNCTION impact_refuse_published_version_change();

CREATE FUNCTION impact_computation_under_published() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM impact_methodologyversion
                   WHERE id = NEW.version_id AND status = 'published') THEN
        RAISE EXCEPTION 'figures are stored only under a published methodology version'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER impact_computation_published BEFORE INSERT ON impact_computation
FOR EACH ROW EXECUTE FUNCTION impact_computation_under_published();
"""

UNFROZEN = """
DROP TRIGGER IF EXISTS impact_computation_published ON impact_computation;
DROP FUNCTION IF EXISTS impact_computation_under_published();
DROP TRIGGER IF EXISTS impact_version_frozen ON impact_methodologyversion;
DROP FUNCTION IF EXISTS impact_refuse_published_version_change();
DROP TRIGGER IF EXISTS impact_rule_frozen ON impact_rule;
DROP TRIGGER IF EXISTS impact_factor_frozen ON impact_factor;
DROP FUNCTION IF EXISTS impact_refuse_published_change();
"""


class Migration(migrations.Migration):
    dependencies = [("impact", "0001_methodology_and_figures"), ("core", "0002_append_only")]

    operations = [
        migrations.RunSQL(sql=FROZEN, reverse_sql=UNFROZEN),
        append_only("impact_computation"),
        append_only("impact_figure"),
    ]
