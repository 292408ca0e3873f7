package io.vireo;

import java.util.concurrent.CompletionStage;

/**
 * A receiver of a {@link Signal}.
 */
@FunctionalInterface
public interface SignalReceiver {
  /**
   * Called for an instance being saved or deleted.
   *
   * @param model the instance's model
   * @param instance the instance (for {@link Signal#POST_SAVE}, as saved, its key filled in)
   * @param created for the save signals, true when the save inserts the row;
   *     false for the delete signals
   * @return {@code null}, or a stage the operation waits for before going on
   */
  CompletionStage<?> receive(Model<Instance> model, Instance instance, boolean created);
}
