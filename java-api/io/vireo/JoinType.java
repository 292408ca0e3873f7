package io.vireo;

/** The type of a join ({@link Join#of(JoinType)}). */
public enum JoinType {
  /** INNER JOIN. */
  INNER,
  /** LEFT OUTER JOIN. */
  LEFT,
  /** RIGHT OUTER JOIN. */
  RIGHT,
  /** FULL OUTER JOIN (not on MariaDB). */
  FULL,
  /** CROSS JOIN. */
  CROSS
}
