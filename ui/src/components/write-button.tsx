import type { ButtonHTMLAttributes, ReactNode } from "react";

/** The title of a disabled write button: why it is greyed out. */
export function whyNot(known: boolean, role = "owner"): string {
  return known ? `Your role does not allow this: it needs the ${role} role on the organisation.` : "Checking what your role allows…";
}

/** A button for a write: greyed out, with a title saying why, when the principal may not do it. */
export function WriteButton({
  allowed,
  why,
  children,
  ...rest
}: { allowed: boolean; why: string; children: ReactNode } & ButtonHTMLAttributes<HTMLButtonElement>) {
  return (
    <button type="button" {...rest} disabled={!allowed || rest.disabled} title={allowed ? rest.title : why} data-write="">
      {children}
    </button>
  );
}
