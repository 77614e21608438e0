/**
 * Notifications as Google Cloud Pub/Sub messages (docs/notifications.md): the notification's JSON
 * shape as the data, attributes `eventId`, `type` and `service` for subscription filters and
 * de-duplication. `apiEndpoint` other than *.googleapis.com speaks the emulator's protocol
 * (gRPC without TLS or credentials), which is what the tests' loopback fake serves.
 */
import type { Topic } from '@google-cloud/pubsub';
import { DependencyUnavailableError } from '../../domain/errors.js';
import type { Notification } from '../../domain/notifications/types.js';
import type { NotificationSender } from '../../ports/notification-sender.js';
import { commonJs } from '../first-use-import.js';

export interface PubSubTarget {
  project: string;
  topic: string;
  apiEndpoint?: string | undefined;
}

export function pubSubSender(target: PubSubTarget): NotificationSender {
  let topic: Topic | undefined;
  const what = `Pub/Sub topic projects/${target.project}/topics/${target.topic}`;
  return {
    async send(notification: Notification, timeoutMs: number): Promise<void> {
      // Loaded and built at the first send, not at start: the library is large (the bundler splits it
      // into a chunk only this loads) and building the client reads credentials.
      const { PubSub } = commonJs(await import('@google-cloud/pubsub'));
      topic ??= new PubSub({ projectId: target.project, ...(target.apiEndpoint ? { apiEndpoint: target.apiEndpoint } : {}) }).topic(target.topic, { batching: { maxMessages: 1, maxMilliseconds: 0 } });
      const publishing = topic.publishMessage({
        data: Buffer.from(JSON.stringify(notification)),
        attributes: { eventId: notification.id, type: notification.type, service: notification.deployment.service },
      });
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([publishing, deadline]);
      } catch (error) {
        publishing.catch(() => undefined); // settled later, after the deadline: already counted as failed
        throw new DependencyUnavailableError(what, `publish ${notification.id}`, { cause: error });
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
