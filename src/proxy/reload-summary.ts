/** What a reload changed, for the message that reports it. */
export interface ReloadSummary {
  forwards: number;
  /** Listeners started for addresses the previous config did not have. */
  added: string[];
  /** Listeners closed because the new config no longer has their address. */
  removed: string[];
  /** Addresses kept open across the reload (their socket handed to the new config). */
  kept: string[];
}
