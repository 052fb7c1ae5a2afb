/**
 * Live pages: refetch every few seconds while what they show is running, and
 * stop on their own after a while (an open tab left overnight should not
 * poll the server forever); the page then says so and a reload resumes.
 */
import { useRef } from "react";

export const LIVE_INTERVAL_MS = 3_000;
export const LIVE_FOR_MS = 30 * 60_000;

export function useLiveInterval(): { interval: (running: boolean) => number | false; expired: () => boolean } {
  const opened = useRef(Date.now());
  const expired = () => Date.now() - opened.current > LIVE_FOR_MS;
  return { interval: (running) => (running && !expired() ? LIVE_INTERVAL_MS : false), expired };
}
