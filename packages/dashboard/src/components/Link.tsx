import type { AnchorHTMLAttributes, MouseEvent, ReactNode } from "react";
import { isPlainClick, navigate } from "../lib/router.ts";

type Props = AnchorHTMLAttributes<HTMLAnchorElement> & { href: string; children: ReactNode };

/** A real link (open in a new tab works) that navigates inside the app on a plain click. */
export function Link({ href, children, onClick, ...rest }: Props) {
  const click = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    // In-page anchors (#gov_…) are the browser's to follow.
    if (event.defaultPrevented || !isPlainClick(event) || href.startsWith("#")) return;
    event.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={click} {...rest}>
      {children}
    </a>
  );
}
