"""The rasd label schema: entity types and the ACLED incident taxonomy, as data.

This module is the single source of truth for label ids shared by the dataset
builder, the trainer, the model config and the inference library. It mirrors
``SPEC.md`` (schema v1); models and datasets record :data:`SCHEMA_VERSION`.

Example:
    >>> from rasd.schema import ENTITY_TYPES, SUB_EVENT_TYPES, event_type_of
    >>> [t.id for t in ENTITY_TYPES]
    ['PER', 'ORG', 'LOC', 'DATE', 'WEAPON']
    >>> event_type_of("suicide_bomb")
    'explosions_remote_violence'
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_VERSION = "1"


@dataclass(frozen=True)
class EntityType:
    """One entity label of the schema (SPEC §2)."""

    id: str
    name_en: str
    name_ar: str
    definition: str


@dataclass(frozen=True)
class EventType:
    """One of ACLED's 6 event types (SPEC §3)."""

    id: str
    name_en: str
    name_ar: str
    definition: str


@dataclass(frozen=True)
class SubEventType:
    """One of ACLED's 25 sub-event types; ``event_type`` is its parent's id."""

    id: str
    event_type: str
    name_en: str
    name_ar: str
    definition: str


ENTITY_TYPES: tuple[EntityType, ...] = (
    EntityType("PER", "person", "شخص",
               "A named person, including a kunya, nom de guerre or quoted nickname."),
    EntityType("ORG", "organisation", "منظمة",
               "A named organisation: armed group, military unit, state or security body, "
               "party, media outlet, or a fixed designation of a specific state actor."),
    EntityType("LOC", "location", "مكان",
               "A named place: country, province, city, town, neighbourhood, street, "
               "named region or named facility."),
    EntityType("DATE", "date", "تاريخ",
               "An expression placing something in time (a point or a period); "
               "not a bare duration."),
    EntityType("WEAPON", "weapon", "سلاح",
               "A weapon, munition or means of attack."),
)

EVENT_TYPES: tuple[EventType, ...] = (
    EventType("battles", "Battles", "معارك",
              "Violent interactions between two organised armed groups."),
    EventType("explosions_remote_violence", "Explosions/Remote violence", "انفجارات/عنف عن بعد",
              "One-sided violence using explosive weapons or remote means."),
    EventType("violence_against_civilians", "Violence against civilians", "عنف ضد المدنيين",
              "Violence by an organised armed group against unarmed non-combatants."),
    EventType("protests", "Protests", "احتجاجات",
              "A public demonstration by non-violent participants."),
    EventType("riots", "Riots", "أعمال شغب",
              "Violent events by demonstrators or mobs."),
    EventType("strategic_developments", "Strategic developments", "تطورات استراتيجية",
              "Contextually important non-violent activity by conflict actors."),
)

SUB_EVENT_TYPES: tuple[SubEventType, ...] = (
    SubEventType("armed_clash", "battles", "Armed clash", "اشتباك مسلح",
                 "Armed, organised groups engage in a battle with no change of territory."),
    SubEventType("government_regains_territory", "battles",
                 "Government regains territory", "استعادة الحكومة لأراض",
                 "Government forces regain control of a location from a non-state actor."),
    SubEventType("non_state_actor_overtakes_territory", "battles",
                 "Non-state actor overtakes territory", "سيطرة جهة غير حكومية على أراض",
                 "A non-state armed group takes control of a location by force."),
    SubEventType("chemical_weapon", "explosions_remote_violence", "Chemical weapon",
                 "سلاح كيميائي", "Use of chemical weapons."),
    SubEventType("air_drone_strike", "explosions_remote_violence", "Air/drone strike",
                 "غارة جوية/بطائرة مسيرة", "An air or drone strike."),
    SubEventType("suicide_bomb", "explosions_remote_violence", "Suicide bomb", "تفجير انتحاري",
                 "A suicide bombing or a vehicle bomb driven by its attacker."),
    SubEventType("shelling_artillery_missile_attack", "explosions_remote_violence",
                 "Shelling/artillery/missile attack", "قصف مدفعي/صاروخي",
                 "Long-range fire: tanks, artillery, mortars, rockets, missiles."),
    SubEventType("remote_explosive_landmine_ied", "explosions_remote_violence",
                 "Remote explosive/landmine/IED", "عبوة ناسفة/لغم",
                 "Landmines, IEDs, booby-traps, a building blown up with explosives."),
    SubEventType("grenade", "explosions_remote_violence", "Grenade", "قنبلة يدوية",
                 "A grenade attack."),
    SubEventType("sexual_violence", "violence_against_civilians", "Sexual violence",
                 "عنف جنسي", "Sexual violence against civilians."),
    SubEventType("attack", "violence_against_civilians", "Attack", "اعتداء",
                 "An attack on civilians: assassinations, sniping, killing of unarmed people."),
    SubEventType("abduction_forced_disappearance", "violence_against_civilians",
                 "Abduction/forced disappearance", "خطف/إخفاء قسري",
                 "Kidnapping or forced disappearance by a non-state or unidentified actor."),
    SubEventType("peaceful_protest", "protests", "Peaceful protest", "احتجاج سلمي",
                 "A demonstration with no violence and no intervention."),
    SubEventType("protest_with_intervention", "protests", "Protest with intervention",
                 "احتجاج مع تدخل", "A peaceful protest dispersed or suppressed by force."),
    SubEventType("excessive_force_against_protesters", "protests",
                 "Excessive force against protesters", "قوة مفرطة ضد المحتجين",
                 "Lethal or excessive force used against peaceful protesters."),
    SubEventType("violent_demonstration", "riots", "Violent demonstration", "تظاهرة عنيفة",
                 "Demonstrators engage in violence or vandalism."),
    SubEventType("mob_violence", "riots", "Mob violence", "عنف الحشود",
                 "Violence by a spontaneous mob."),
    SubEventType("agreement", "strategic_developments", "Agreement", "اتفاق",
                 "A ceasefire, settlement, prisoner exchange or other agreement."),
    SubEventType("arrests", "strategic_developments", "Arrests", "اعتقالات",
                 "Detentions and captures outside combat."),
    SubEventType("change_to_group_activity", "strategic_developments",
                 "Change to group/activity", "تغيير في نشاط جماعة",
                 "A group forms, merges, dissolves or changes its activity."),
    SubEventType("disrupted_weapons_use", "strategic_developments", "Disrupted weapons use",
                 "تعطيل استخدام أسلحة",
                 "Weapons seized, defused or intercepted before use."),
    SubEventType("headquarters_or_base_established", "strategic_developments",
                 "Headquarters or base established", "إنشاء مقر أو قاعدة",
                 "An armed group establishes a base or headquarters."),
    SubEventType("looting_property_destruction", "strategic_developments",
                 "Looting/property destruction", "نهب/تدمير ممتلكات",
                 "Looting or destruction of property outside combat."),
    SubEventType("non_violent_transfer_of_territory", "strategic_developments",
                 "Non-violent transfer of territory", "انتقال سلمي للسيطرة",
                 "Territory changes hands without fighting."),
    SubEventType("other", "strategic_developments", "Other", "أخرى",
                 "Other significant developments: curfews, closures, new courts."),
)

ENTITY_LABELS: tuple[str, ...] = tuple(t.id for t in ENTITY_TYPES)
EVENT_LABELS: tuple[str, ...] = tuple(t.id for t in EVENT_TYPES)
SUB_EVENT_LABELS: tuple[str, ...] = tuple(t.id for t in SUB_EVENT_TYPES)

_SUB_TO_EVENT = {t.id: t.event_type for t in SUB_EVENT_TYPES}


def iob2_tags(entity_labels: tuple[str, ...] = ENTITY_LABELS) -> tuple[str, ...]:
    """IOB2 tag list derived from entity labels: ``O`` first, then B-/I- per type.

    Example:
        >>> iob2_tags(("PER",))
        ('O', 'B-PER', 'I-PER')
    """
    tags = ["O"]
    for label in entity_labels:
        tags += [f"B-{label}", f"I-{label}"]
    return tuple(tags)


IOB2_TAGS: tuple[str, ...] = iob2_tags()


def event_type_of(sub_event_type: str) -> str:
    """The ACLED event type a sub-event type belongs to.

    Raises:
        KeyError: if ``sub_event_type`` is not one of :data:`SUB_EVENT_LABELS`.
    """
    try:
        return _SUB_TO_EVENT[sub_event_type]
    except KeyError:
        raise KeyError(
            f"unknown incident type {sub_event_type!r}; expected one of {', '.join(SUB_EVENT_LABELS)}"
        ) from None


# Sanity check at import: every sub-event names a known parent (cheap, catches typos early).
assert set(_SUB_TO_EVENT.values()) <= set(EVENT_LABELS)
assert len(SUB_EVENT_TYPES) == 25 and len(EVENT_TYPES) == 6
