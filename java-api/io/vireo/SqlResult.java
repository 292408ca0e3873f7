package io.vireo;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The result of a raw SQL statement ({@link Database#aioExecuteSql(String, Object...)}).
 *
 * @param rows the rows, column names as keys (kebab-case: {@code created_at} is {@code "created-at"})
 * @param rowCount the number of rows returned or affected
 * @param lastInsertId the generated key where the driver reports one (MySQL, SQLite), else {@code null}
 */
public record SqlResult(List<Map<String, Object>> rows, long rowCount, @Nullable Object lastInsertId) {
}
